"""What the evidence says: rules over the model that produce findings.

A finding is a severity, a one-line claim, the evidence (sequence numbers of lines a reader can
open, with their text), and the next thing to try. Rules reason from what the logs and runs show,
and say "inferred" where they connect dots the logs do not. Facts: VENUS_FACTS.md, VENUS_LAB.md.
Over 500 lines on purpose: the rules are one set sharing their evidence helpers and ranking; split
across modules they would import each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from venustui import decoders, knowledge
from venustui import handles as H
from venustui.model import Model
from venustui.model.views import lab_setup
from venustui.numbers import size_text
from venustui.parse.text import raw_text

CRITICAL, ERROR, WARNING, INFO = "critical", "error", "warning", "info"
SEVERITY_ORDER = {CRITICAL: 0, ERROR: 1, WARNING: 2, INFO: 3}
# vn_relax aborts (Mesa 24.1+): ring seqno waits at iteration 65536, others at 16384, ~895 s in.
ABORT_ITER = {"ring seqno": 65536}
OTHER_ABORT_ITER = 16384


@dataclass(frozen=True)
class Evidence:
    seq: int
    source: str
    text: str
    line: int | None = None  # the line's number in its source (its file), where known


@dataclass
class Finding:
    rule: str
    severity: str
    claim: str
    evidence: list[Evidence] = field(default_factory=list)
    next_step: str = ""
    confidence: str = "likely"  # confirmed, likely or possible (README: "How sure a finding is")
    title: str = ""
    details: dict[str, str] = field(default_factory=dict)  # mechanism, cause, versions, fix, confirm, rule_out...
    references: list[str] = field(default_factory=list)
    candidates: list[tuple[str, str]] = field(default_factory=list)  # a symptom's known causes: (id, what tells)

    def as_dict(self) -> dict:
        out = {"rule": self.rule, "severity": self.severity, "confidence": self.confidence, "claim": self.claim,
               "next": self.next_step,
               "evidence": [{"seq": e.seq, "source": e.source, "text": e.text, **({"line": e.line} if e.line else {})}
                            for e in self.evidence]}
        if self.title:
            out["title"] = self.title
        if self.details:
            out["details"] = dict(self.details)
        if self.references:
            out["references"] = list(self.references)
        if self.candidates:
            out["candidates"] = [{"id": i, "tells": t} for i, t in self.candidates]
        return out


Rule = Callable[[Model], list[Finding]]
RULES: list[Rule] = []
CONFIDENCE_ORDER = {"confirmed": 0, "likely": 1, "possible": 2}
# How sure each rule's finding is (the knowledge base's signatures say it in their data).
RULE_CONFIDENCE = {**dict.fromkeys(("feedback-ab", "feedback-broken", "ring-shmem", "wire-format", "no-venus-capset",
                                     "device-without-virgl", "layer-missing", "flag-ignored", "guest-aborted",
                                     "validation-wrapped", "venus-lines-hidden", "render-server-gone"), "confirmed"),
                   "render-server-stalled": "likely", "ring-alive-expired": "likely",
                   **dict.fromkeys(("fence-not-signaled", "stuck-fence-alive", "stuck-wait", "alive-expired-after-fence"),
                                   "possible")}


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def diagnose(model: Model, versions: dict[str, str] | None = None) -> list[Finding]:
    """Every finding, the best-supported first (see rank): the rules' and the knowledge base's. A session
    on the lab says which pair ran (its "lab" action) in every finding, and its versions gate signatures."""
    setup = lab_setup(model)
    if setup and versions is None:
        versions = {k: setup["versions"][k] for k in ("mesa", "virglrenderer") if k in setup.get("versions", {})}
    findings = [finding for fn in RULES for finding in fn(model)]
    for finding in findings:
        finding.confidence = RULE_CONFIDENCE.get(finding.rule, finding.confidence)
        finding.evidence = [e if e.line is not None else replace(e, line=model.numbering.number(e.source, e.seq))
                            for e in finding.evidence]
    signatures = knowledge.load()
    # Causes first; a symptom's signature only where none of its known causes was found.
    for symptoms in (False, True):
        found = {finding.rule for finding in findings}
        for signature in (s for s in signatures if s.symptom == symptoms):
            if not (symptoms and any(cause in found for cause, _ in signature.candidates)):
                hit = knowledge.evaluate(signature, model, versions)
                findings += [_from_hit(hit, model)] if hit is not None else []
    if setup:
        for finding in findings:
            finding.details.setdefault("ran on", f"the lab ({setup.get('vmm', 'vtest')}), pair {setup.get('describe')}")
    return rank(findings)


def rank(findings: list[Finding]) -> list[Finding]:
    """The top finding first: anything above info before info, then the surest, the most severe, the earliest."""
    return sorted(findings, key=lambda f: (f.severity == INFO, CONFIDENCE_ORDER[f.confidence],
                                           SEVERITY_ORDER[f.severity], f.evidence[0].seq if f.evidence else 0))


def _from_hit(hit: knowledge.Hit, model: Model) -> Finding:
    signature = hit.signature
    evidence = []
    for match in signature.evidence:
        record = hit.matched.get(match.name)
        if record is None:
            continue
        text = raw_text(record.line.data)[:500]
        decoded = [decoders.inline(str(record.fields[key]), kind) for key, kind in match.decode if key in record.fields]
        if decoded:
            text += "   [" + "; ".join(decoded) + "]"
        evidence.append(Evidence(record.line.seq, record.line.source, text,
                                 model.numbering.number(record.line.source, record.line.seq)))
    claim = knowledge.render(signature.claim, hit.matched, decoders.inline)
    if hit.version_note:
        claim += f" ({hit.version_note})"
    details = {key: value for key, value in (
        ("mechanism", signature.mechanism), ("cause", signature.cause), ("versions", signature.versions),
        ("fix", signature.fix), ("confirm", signature.confirm), ("rule out", signature.rule_out),
        ("collect", signature.collect)) if value}
    return Finding(signature.id, signature.severity, claim, evidence, signature.next or signature.collect,
                   hit.confidence, signature.title, details, list(signature.references), list(signature.candidates))


def _ev(model: Model, *seqs: int | None) -> list[Evidence]:
    out = []
    for seq in seqs:
        kept = model.evidence(seq)
        if kept is not None:
            out.append(Evidence(kept.seq, kept.source, kept.text))
    return out


def _export_failures(model: Model):
    return [n for n in model.notable if n.what == "call_failed" and "export_blob" in n.fields.get("callee", "")]


def _polling_works(model: Model) -> list[Evidence]:
    """Evidence that the polling path (no fence feedback) signals fences."""
    out = []
    for fence in model.fences.values():
        if fence.state == "signaled" and fence.path == "host polling":
            out += _ev(model, fence.signaled_seq) or _ev(model, fence.created_seq)
    for target in model.targets.values():
        if "no_fence_feedback" in target.vn_perf.split(",") and target.outcome.get("status") == "passed":
            out.append(Evidence(target.start_seq, f"run #{target.id}",
                                f"{target.target} {target.phase} phase passed with VN_PERF={target.vn_perf}"))
    return out


# rules ----------------------------------------------------------------------------------
@rule
def fence_never_signaled(model: Model) -> list[Finding]:
    ties = model.fence_ties()
    tied_hosts = {host for host, _ in ties.values()}
    stuck = [f for f in model.fences.values()
             if f.key not in tied_hosts and f.state in ("timeout", "stuck")
             and any(result in ("VK_SUCCESS", "?") for _, result in f.submits)]
    for target in model.targets.values():
        outcome = target.outcome
        if target.phase == "fence" and outcome.get("status") == "hung" and outcome.get("step") in ("status", "wait"):
            stuck.append(None)  # a probe whose fence never signaled
    if not stuck:
        return []
    polling = _polling_works(model)
    fence = next((f for f in stuck if f is not None), None)
    evidence = []
    name = "a fence"
    if fence is not None:
        tie = ties.get(fence.key)
        host = model.fences.get(tie[0]) if tie else None
        handle = fence.handle if fence.handle is not None else (host.handle if host else None)
        name = f"fence 0x{handle:x}" if handle is not None else "the fence"
        evidence = _ev(model, fence.created_seq, fence.submits[0][0] if fence.submits else None,
                       fence.waits[-1][0] if fence.waits else None)
    if polling:
        return [Finding(
            "feedback-broken", CRITICAL,
            f"fence feedback path broken, polling path works: {name} was submitted OK and never signaled "
            "with feedback on, while fences signal when the guest polls the host (no_fence_feedback)",
            evidence + polling[:3],
            "Keep VN_PERF=no_fence_feedback as the workaround; then find why the feedback slot's write never "
            "reaches the guest: venustui probe --phase map shows whether host-visible memory maps at all")]
    return [Finding(
        "fence-not-signaled", ERROR,
        f"{name} was submitted OK and never signaled (the wait timed out or the guest is stuck waiting)",
        evidence,
        "Rerun with VN_PERF=no_fence_feedback (venustui triage): if it then signals, the feedback path is the "
        "culprit, not the fence")]


@rule
def feedback_ab(model: Model) -> list[Finding]:
    """Runs that differ by fence feedback and end differently: the A/B the user would otherwise do by hand."""
    out = []
    on = [r for r in model.runs if r.fence_feedback is True and r.steps]
    off = [r for r in model.runs if r.fence_feedback is False and r.steps and all(s.ok for s in r.steps)
           and r.last_step.role == "wait"]
    stopped = [r for r in on if not any(s.role == "wait" and s.ok for s in r.steps)]
    if stopped and off:
        a, b = stopped[0], off[0]
        next_call = "vkCreateFence" if a.last_step.role == "queue" else "the next call"
        out.append(Finding(
            "feedback-ab", CRITICAL,
            f"with fence feedback on, run {a.id} stopped after step {a.last_step.num} {a.last_step.name} "
            f"(hangs in {next_call}); with no_fence_feedback, run {b.id} passed all {len(b.steps)} steps",
            _ev(model, a.last_step.seq, b.last_step.seq) + [
                Evidence(a.start_seq, a.source, f"run {a.id} perf = 0x{a.perf_mask:x}"),
                Evidence(b.start_seq, b.source, f"run {b.id} perf = 0x{b.perf_mask:x}")],
            "VN_PERF=no_fence_feedback is a workaround; the map phase (venustui probe --phase map) shows "
            "whether the feedback slot's memory can be mapped at all"))
    by_phase: dict[str, list] = {}
    for target in model.targets.values():
        by_phase.setdefault(target.phase, []).append(target)
    for phase, targets in by_phase.items():
        # An A/B only where the flag can matter: a failure before any fence exists is not the flag's doing.
        failing = [t for t in targets if not t.vn_perf and t.outcome.get("status") not in (None, "passed")
                   and t.outcome.get("step") not in EARLY_STEPS]
        passing = [t for t in targets if t.vn_perf and t.outcome.get("status") == "passed"]
        if failing and passing:
            a, b = failing[0], min(passing, key=lambda t: len(t.vn_perf.split(",")))
            from venustui.probe.runner import step_call

            how = a.outcome.get("text", "")
            if a.outcome.get("status") == "hung":
                how = f"hangs in {step_call(a.outcome.get('step', ''))}"
            out.append(Finding(
                "feedback-ab", CRITICAL,
                f"{phase} phase {how} with the defaults (run #{a.id}); passes with {b.vn_perf} (run #{b.id})",
                [Evidence(a.start_seq, f"run #{a.id}", f"{a.target}: {a.outcome.get('text')}"),
                 Evidence(b.start_seq, f"run #{b.id}", f"{b.target} VN_PERF={b.vn_perf}: passed")],
                f"Use VN_PERF={b.vn_perf} as the workaround and report the failing path with venustui report"))
    return out


EARLY_STEPS = ("instance", "physdev", "device", "queue")
MESA_INFO = re.compile(r"Mesa (\d+\.\d+(?:\.\d+)?)")  # before any fence: no feedback flag can matter there


def _guest_mesa(model: Model) -> tuple[str, int | None]:
    """The guest driver's Mesa version as a run reported it (the probe's driverInfo, "Mesa 26.2.6-1"), with the
    line that says so; else the lab's record of its pair."""
    for target in model.targets.values():
        for step in target.steps:
            match = MESA_INFO.match(str(step.get("driver_info", "")))
            if match:
                return match.group(1), target.start_seq
    return lab_setup(model).get("versions", {}).get("mesa", ""), None


def _fence_feedback_gone(model: Model) -> str:
    """The guest's Mesa when it is 26.2 or newer (no fence feedback, so no_fence_feedback is no fix), else ""."""
    mesa, _ = _guest_mesa(model)
    return mesa if mesa and tuple(int(x) for x in mesa.split(".")[:2]) >= (26, 2) else ""


@rule
def no_fence_feedback_in_this_mesa(model: Model) -> list[Finding]:
    mesa, seq = _guest_mesa(model)
    if seq is None or not _fence_feedback_gone(model):
        return []
    asked = [t for t in model.targets.values() if "no_fence_feedback" in t.vn_perf.split(",")]
    return [Finding("fence-feedback-gone", INFO,
                    f"the guest's Venus driver is Mesa {mesa}, which has no fence feedback: fences are guest-side "
                    "renderer syncs with no feedback slot, so VN_PERF=no_fence_feedback does not exist there (Mesa "
                    "ignores the name silently)" + (f"; run #{asked[0].id} asked for it anyway" if asked else ""),
                    [Evidence(seq, f"run #{next(t.id for t in model.targets.values() if t.start_seq == seq)}",
                              f"driverInfo Mesa {mesa}")],
                    "Nothing to toggle for fences on this Mesa: a fence that never signals here is not the feedback "
                    "path (look at the ring and the host instead)")]


@rule
def cannot_map_host_visible(model: Model) -> list[Finding]:
    exports = _export_failures(model)
    hung_maps = [t for t in model.targets.values()
                 if t.phase == "map" and t.outcome.get("status") == "hung" and t.outcome.get("step") == "map"]
    log_maps = [r for r in model.runs if r.progress and r.progress[-1][0] == "alloc" and r.progress[-1][1] == "ok"
                and not any(name == "map" for name, _, _ in r.progress)]
    if not hung_maps and not (log_maps and exports):
        return []
    evidence = [Evidence(t.start_seq, f"run #{t.id}", f"map phase {t.outcome.get('text')} with "
                         f"{t.flags or 'defaults'}") for t in hung_maps]
    evidence += [Evidence(r.progress[-1][2], r.source, f"run {r.id}: last progress 'alloc ok', then nothing")
                 for r in log_maps]
    evidence += [Evidence(n.seq, n.source, n.text) for n in exports[:2]]
    every = ""
    if len(hung_maps) > 1:
        every = f" in every flag set tried ({len(hung_maps)} runs)"
    inferred = "" if hung_maps else " (inferred from the logs: the run stopped after allocating)"
    gone = _fence_feedback_gone(model)
    slots = (f"event, semaphore and query feedback slots are such memory (Mesa {gone} has no fence feedback)"
             if gone else "fence feedback slots are such memory, which is why feedback cannot work here")
    return [Finding(
        "cannot-map", CRITICAL,
        f"the guest cannot map host-visible memory: vkMapMemory never returns{every}{inferred}; {slots}",
        evidence,
        "Host-visible memory reaches the guest as an exported blob: give the host a way to export it "
        "(dma-buf or udmabuf support in virglrenderer and the host driver)"
        + ("" if gone else ", or keep no_fence_feedback"))]


@rule
def blob_export_failed(model: Model) -> list[Finding]:
    exports = _export_failures(model)
    if not exports:
        return []
    first = exports[0]
    f = first.fields
    tied = ""
    run = model.run(first.run) if first.run else None
    hung = [t for t in model.targets.values() if t.outcome.get("status") == "hung"]
    stopped_at_fence = [r for r in model.runs if r.fence_feedback is not False and r.last_step is not None
                        and r.last_step.role == "queue" and not r.fences]
    if hung:
        t = hung[0]
        tied = f"; run #{t.id} hung at {t.outcome.get('step')} ({t.phase} phase, {t.flags or 'defaults'})"
    elif stopped_at_fence:
        r = stopped_at_fence[0]
        tied = (f"; run {r.id} stopped after step 4 Queue: its next call, vkCreateFence, allocates a feedback "
                "slot, which is such memory (inferred)")
    elif run is not None and run.last_step is not None:
        tied = (f"; run {run.id} stopped after step {run.last_step.num} {run.last_step.name}"
                + (" — its next call, vkCreateFence, allocates a feedback slot, which is such memory (inferred)"
                   if run.last_step.role == "queue" and run.fence_feedback is not False else ""))
    return [Finding(
        "blob-export", ERROR,
        f"the host could not export guest-mappable memory: {f['caller']} → {f['callee']} failed {f['ret']} "
        f"({f['errno']}), {len(exports)} time(s){tied}",
        [Evidence(n.seq, n.source, n.text) for n in exports[:3]],
        "EINVAL from export_blob means this host has no way to share the memory (no dma-buf/udmabuf export "
        "for the driver): run the host with udmabuf (VKR_DEBUG=udmabuf where supported) or avoid mapped "
        "memory paths" + ("" if _fence_feedback_gone(model) else " (VN_PERF=no_fence_feedback for fences)"))]


def _alive_expired(model: Model, seq: int) -> Finding:
    """The guest sees the same for a render server stopped and one gone: ALIVE no longer refreshed. What came
    after on the host separates them: a gone server makes the host refuse the next commands; a stopped one
    makes the next run hang early with no host error."""
    refused = [n for n in model.notable if n.seq > seq and n.fmt == "qemu" and n.what == "cmd_error"]
    later = [t for t in model.targets.values() if t.start_seq > seq]
    hung_early = [t for t in later if t.outcome.get("status") == "hung" and t.outcome.get("step") in EARLY_STEPS]
    same = "from the guest a render server that is stopped and one that is gone look the same (nothing refreshes ALIVE)"
    if refused:
        return Finding("render-server-gone", CRITICAL,
                       f"the render server is gone (killed or crashed): the ring's ALIVE status expired, then the "
                       f"host refused the guest's next commands ({len(refused)} time(s)); {same}, and the host's "
                       "refusals are what separate them",
                       _ev(model, seq, refused[0].seq), "Find why the render server ended (dmesg for a crash or "
                       "the OOM killer, the render server's own log); QEMU must be restarted for Venus to work again")
    if hung_early:
        t = hung_early[0]
        return Finding("render-server-stalled", CRITICAL,
                       f"the render server is alive but not answering (stopped or hung): the ring's ALIVE status "
                       f"expired, then run #{t.id} hung at {t.outcome.get('step')} with no host error; {same}, and "
                       "the next run hanging without the host refusing anything is what separates them",
                       _ev(model, seq) + [Evidence(t.start_seq, f"run #{t.id}", f"{t.target}: {t.outcome.get('text')}")],
                       "On the host: ps -o stat,pid,args -C virgl_render_server (T = stopped: kill -CONT it; D or "
                       "R = stuck in the driver: a backtrace with gdb -p PID)")
    # A fence submitted OK that never signaled before it: the guest's next waits went to the ring, so the expiry
    # may be that fence's consequence (the seed's class), and the fence is the first thing to test.
    earlier = [f for f in model.fences.values() if f.state in ("timeout", "stuck") and f.waits
               and f.waits[-1][0] < seq and any(result in ("VK_SUCCESS", "?") for _, result in f.submits)]
    if earlier:
        return Finding("alive-expired-after-fence", CRITICAL,
                       f"the ring's ALIVE status expired (the host thread that refreshes it stopped: the render "
                       f"server gone, stopped or blocked), after a fence submitted OK had already timed out; {same}",
                       _ev(model, earlier[0].waits[-1][0], seq),
                       "Test the fence first: rerun with VN_PERF=no_fence_feedback (venustui triage); if the fence "
                       "then signals, the expiry followed the feedback path's failure. Otherwise, on the host: ps -o "
                       "stat,pid,args -C virgl_render_server (absent = gone, T = stopped)")
    return Finding("ring-alive-expired", CRITICAL,
                   f"the ring's ALIVE status expired: the host process or its context is gone or stopped, not slow; "
                   f"{same}", _ev(model, seq),
                   "Separate them on the host: ps -o stat,pid,args -C virgl_render_server (absent = gone, T = "
                   "stopped), then run again: a gone server makes QEMU refuse the commands, a stopped one hangs")


@rule
def stuck_waits(model: Model) -> list[Finding]:
    ring = model.ring
    out = []
    # Mesa prints a bare "aborting" after the reason it gives up for: that line alone is no evidence of FATAL.
    reasons = [entry for entry in ring.fatal if entry[1] != "abort"]
    for seq, what, _iteration, _run in reasons:
        if what == "dispatch_failed":  # vkr_context_submit_cmd: a command sent outside the ring
            out.append(Finding("context-fatal", CRITICAL,
                               "the context is FATAL (dispatch_failed): the host failed to decode a command the "
                               "guest sent outside the ring and refuses the context's later commands",
                               _ev(model, seq), "Look at the host log just before: the render server names the "
                               "command it could not decode (… resulted in CS error)"))
            continue
        out.append(Finding("ring-fatal", CRITICAL,
                           f"the ring is FATAL ({what}): the host failed to decode a command and stopped the ring",
                           _ev(model, seq), "Look at the host log just before: the render server names the "
                           "command it could not decode (vn_dispatch_command failed)"))
    if not reasons and not ring.alive_expired and ring.fatal:
        seq = ring.fatal[0][0]
        out.append(Finding("guest-aborted", ERROR, "the guest's Venus driver aborted; these logs do not say why "
                           "(no FATAL ring, no expired ALIVE before it)", _ev(model, seq),
                           "Rerun with VN_DEBUG=init,result MESA_LOG_LEVEL=debug: Mesa prints its reason just "
                           "before 'aborting'"))
    for seq, _iteration, _run in ring.alive_expired[:1]:
        out.append(_alive_expired(model, seq))
    for stuck in ring.stuck.values():
        limit = ABORT_ITER.get(stuck.reason, OTHER_ABORT_ITER)
        evidence = _ev(model, stuck.first_seq, stuck.last_seq if stuck.last_seq != stuck.first_seq else None)
        if stuck.reason in ("fence", "client") and not ring.alive_expired and not ring.fatal:
            out.append(Finding(
                "stuck-fence-alive", CRITICAL,
                f"endless 'stuck in {stuck.reason} wait' ({stuck.count} warnings, {stuck.reach()}) "
                "while the ring stays alive: the host runs, but the guest never sees the fence signal. Known "
                "causes: the fence's feedback slot is written on the host and never seen by the guest, or the "
                "host driver never signals (QEMU's own functional test treats this as host-sensitive)",
                evidence, "VN_PERF=no_fence_feedback makes the guest ask the host instead: if the waits end, "
                "it is the feedback path; venustui probe --phase map checks whether a GPU write to mapped memory "
                "reaches the CPU; QEMU's -trace 'virtio_gpu_fence*' shows whether the host answers each fence",
                candidates=[("feedback-ab", "VN_PERF=no_fence_feedback ends the waits: the feedback path"),
                            ("fence-waits-host-answers", "QEMU answers every fence (virtio_gpu_fence_resp): the "
                             "host signals, the guest does not see it"),
                            ("slow-host-call", "the iterations climb toward the abort while a host call runs")]))
        elif stuck.max_iter >= limit // 2:
            out.append(Finding(
                "slow-host-call", ERROR,
                f"'stuck in {stuck.reason} wait' reached iteration {stuck.max_iter} (abort at {limit}, ~895 s) "
                "with the ring alive: the host is stuck inside a driver call, not dead",
                evidence, "Attach a debugger to the render server and look at the thread inside the host "
                "driver (vkQueueSubmit or a wait)"))
        else:
            host = ""
            if ring.seqno_count:
                _, fn, seqno, wait = ring.seqno_pairs[-1]
                host = f"; the host says {fn}: ring seqno {seqno} can never reach {wait}"
            out.append(Finding(
                "stuck-wait", WARNING,
                f"the guest is stuck in a {stuck.reason} wait ({stuck.count} warnings, {stuck.reach()})"
                f"{host}",
                evidence, "A symptom more often than a cause: look at what the guest waited for before it "
                "(a fence that never signaled, a host that stopped reading the ring)"))
    return out


@rule
def transport_errors(model: Model) -> list[Finding]:
    out = []
    for seq, detail, _run in model.ring.lost_connections:
        out.append(Finding("lost-connection", ERROR, f"the guest lost its connection to the render server ({detail})",
                           _ev(model, seq), "The host side went away: look for a crash or exit in the host log"))
    clients = [n for n in model.notable if n.what == "client_status" and n.level == "error"]
    if clients:
        kinds = sorted({n.fields["status"] for n in clients})
        out.append(Finding("vtest-client-error", ERROR,
                           f"the vtest server dropped clients: {', '.join(kinds)} ({len(clients)} time(s))",
                           [Evidence(n.seq, n.source, n.text) for n in clients[:3]],
                           "COMMAND_DISPATCH follows a failed host call: the line before it names the call"))
    for run in model.runs:
        if "wire_format_mismatch" in run.facts:
            guest, host = run.facts["wire_format_mismatch"]
            out.append(Finding("wire-format", CRITICAL,
                               f"guest and host speak different Venus wire formats ({guest} != {host}): instance "
                               "creation fails", [Evidence(run.start_seq, run.source, f"run {run.id}")],
                               "Use a virglrenderer as new as the guest's Mesa (0.10.4 speaks format 0; 1.1.0 "
                               "speaks 1)"))
    for notable in model.notable:
        if notable.fmt == "mesa" and notable.what in ("connect_failed", "no_capset", "vtest_too_old"):
            out.append(Finding("transport", ERROR, f"the guest could not reach the renderer: {notable.text}",
                               [Evidence(notable.seq, notable.source, notable.text)],
                               "Check that the server runs and VTEST_SOCKET_NAME (or the virtio-gpu device) "
                               "points at it"))
    return out


@rule
def ring_shmem_unmappable(model: Model) -> list[Finding]:
    """Mesa could not allocate or map the ring's shared memory: the instance cannot be created."""
    failures = [n for n in model.notable if n.fmt == "mesa" and n.what == "ring_shmem_failed"]
    if not failures:
        return []
    windows = [gpu.hostmem_size for gpu in model.virtio_gpu.values() if gpu.hostmem_size is not None]
    where = (f"; the guest kernel reported a host memory window of {size_text(min(windows))}" if windows
             else "")
    results = [n for n in model.notable if n.fmt == "mesa" and n.what == "result"
               and n.fields.get("result") == "VK_ERROR_OUT_OF_HOST_MEMORY"]
    refused = [n for n in model.notable if n.fmt == "qemu" and n.what == "cmd_error" and n.seq < failures[0].seq]
    if refused and windows and min(windows) >= 1 << 20:  # room enough for a ring: the host said no
        return [Finding("ring-shmem", ERROR,
                        f"the guest could not get the ring's shared memory, but not for want of room (a host memory "
                        f"window of {size_text(min(windows))}): the host refused the guest's command first",
                        [Evidence(n.seq, n.source, n.text) for n in (refused[:1] + failures[:1] + results[:1])],
                        "Look at why the host refuses commands (the render server gone, QEMU's stderr)")]
    return [Finding("ring-shmem", CRITICAL,
                    f"the guest could not allocate or map the ring's shared memory ({len(failures)} time(s)), so "
                    f"instance creation fails with VK_ERROR_OUT_OF_HOST_MEMORY{where}",
                    [Evidence(n.seq, n.source, n.text) for n in (failures[:2] + results[:1])],
                    "The ring needs host memory the guest can map: give the VMM a larger host memory window "
                    "(QEMU: virtio-gpu-gl-pci,...,hostmem=256M or more); on macOS hosts (Hypervisor.framework maps "
                    "16 KiB pages) blobs must start and end on 16 KiB boundaries, their size a multiple of 16 KiB")]


VENUS_FEATURES = ("context_init", "resource_blob", "host_visible")  # the virtio-gpu features Venus needs
# Kinds that say a program wanted Vulkan here (a failed call, no driver or device found, a loader's driver failing)
VULKAN_WANTED = frozenset({"vk_call_failed", "vk_error", "assertion", "no_devices", "no_drivers", "hal_unavailable",
                           "icd_call_failed"})


@rule
def no_venus_capset(model: Model) -> list[Finding]:
    """The guest kernel listed the host's capsets, and Venus (id 4) is not among them."""
    out = []
    # Only a problem when something here wanted Venus (the driver's own lines, a Vulkan failure); a guest that
    # uses virgl or cross-domain alone is fine without it.
    wanted = any(fmt == "mesa" or what in VULKAN_WANTED for fmt, what in model.kinds)
    for gpu in model.virtio_gpu.values():
        if "-virgl" in gpu.features and not gpu.capsets:
            said = [n for n in model.notable if n.source == gpu.source and n.fmt == "kernel"
                    and n.what in ("features", "virgl_3d") and ("-virgl" in n.text or "not supported" in n.text)]
            out.append(Finding("device-without-virgl", CRITICAL if wanted else INFO,
                               "the guest's virtio-gpu has no 3D (features: -virgl): the VMM gave it a 2D device, "
                               "which has no capsets, so the Venus driver has nothing to start on" + (
                                   "" if wanted else " (nothing in these logs used Venus: fine if it is not wanted)"),
                               [Evidence(n.seq, n.source, n.text) for n in said[:1]] or _ev(model, gpu.first_seq),
                               "Give the guest the GL variant of the device: QEMU -device virtio-gpu-gl-pci (or "
                               "virtio-vga-gl),blob=true,venus=true,hostmem=… with a display that has OpenGL "
                               "(-display gtk,gl=on, sdl,gl=on or egl-headless); libvirt: <model type='virtio'> "
                               "with <acceleration accel3d='yes'/>"))
        elif gpu.capsets and not gpu.venus:
            ids = ", ".join(str(i) for i in sorted(gpu.capsets))
            # what else Venus needs of the device and the kernel says it lacks ("[drm] features: -context_init")
            lacking = [name[1:] for name in gpu.features if name[1:] in VENUS_FEATURES and name.startswith("-")]
            lacks = f"; the device also lacks {', '.join(lacking)}, which Venus needs" if lacking else ""
            out.append(Finding("no-venus-capset", CRITICAL if wanted else INFO,
                               f"the host offers this guest's virtio-gpu capsets {ids} and not Venus (id 4): the "
                               "host does not serve Venus, so the Venus driver cannot start" + lacks + (
                                   "" if wanted else " (nothing in these logs used Venus: fine if it is not wanted)"),
                               _ev(model, gpu.first_seq),
                               "Enable Venus on the host (QEMU: virtio-gpu-gl-pci,blob=true,venus=true with a "
                               "virglrenderer built with -Dvenus=true), or use the guest driver it serves"))
    return out


@rule
def wrapped_handles(model: Model) -> list[Finding]:
    # The shape test first (id == hash(id) in the high bits): decoding all 20,000 values took 0.3 s.
    wrapped = [h for h in model.handles.values()
               if H.validation_shaped(h.value) and H.best_key(h.value) == "validation-id"]
    if not wrapped:
        return []
    repeated = [h for h in wrapped if len(h.runs) > 1 or len(h.devices) > 1 or h.count > 1]
    example = max(wrapped, key=lambda h: (len(h.runs), h.count))
    ident = example.value & ((1 << 40) - 1)
    spread = (f", seen {example.count} times in {len(example.runs)} run(s) and on {len(example.devices)} "
              f"device(s)") if repeated else ""
    return [Finding(
        "validation-wrapped", INFO,
        f"0x{example.value:x} is the Khronos validation layer's object id {ident}, not a driver handle{spread}: "
        "the layer numbers objects in creation order, so the same value comes back in every run and on every "
        "device; a layer sits between the caller and the driver (VKR_DEBUG=validate or all on the host)",
        _ev(model, example.first_seq) or [Evidence(example.first_seq, ",".join(sorted(example.sources)),
                                                   f"0x{example.value:x}")],
        "Not the bug. To see the driver's own handles, run the host without VKR_DEBUG=validate/all")]


@rule
def layer_not_present(model: Model) -> list[Finding]:
    out = []
    for run in model.runs:
        for fn, result in run.facts.get("results", []):
            if fn == "vn_CreateInstance" and result == "VK_ERROR_LAYER_NOT_PRESENT":
                out.append(Finding(
                    "layer-missing", ERROR,
                    f"run {run.id}: instance creation failed with VK_ERROR_LAYER_NOT_PRESENT: the host's "
                    "VKR_DEBUG=validate (or all) asks for VK_LAYER_KHRONOS_validation, which is not installed there",
                    [Evidence(run.start_seq, run.source, f"vn_CreateInstance: {result}")],
                    "Install the validation layer on the host (Debian: vulkan-validationlayers) or drop "
                    "validate/all from VKR_DEBUG"))
    return out


@rule
def flags_without_effect(model: Model) -> list[Finding]:
    out = []
    from venustui.flags import took_effect

    for target in model.targets.values():
        runs = [model.run(i) for i in target.log_runs]
        runs = [r for r in runs if r is not None]
        masks = [r.perf_mask for r in runs if r.perf_mask is not None]
        names = [n for n in target.vn_perf.split(",") if n]
        if names and masks:
            missing = [n for n, ok in took_effect(names, masks[0]).items() if ok is False]
            if missing:
                out.append(Finding(
                    "flag-ignored", WARNING,
                    f"run #{target.id} asked for VN_PERF={target.vn_perf} but the guest's perf mask is "
                    f"0x{masks[0]:x}: {', '.join(missing)} had no effect (unknown to this Mesa, or removed)",
                    [Evidence(runs[0].start_seq, runs[0].source, f"run {runs[0].id} vn_env perf = 0x{masks[0]:x}")],
                    "Check the driver's own flag names (venustui inspect --icd virtio) and its Mesa version"))
        debug = target.env.get("set", {}).get("VN_DEBUG")
        # It reached the driver (probe steps, or a run in its output) yet no vn_env line came back.
        reached = any(r.steps for r in runs) or any(s.get("step") == "instance" and s.get("result") == "VK_SUCCESS"
                                                    for s in target.steps)
        if debug and reached and all(r.perf_mask is None for r in runs):
            out.append(Finding(
                "venus-lines-hidden", WARNING,
                f"run #{target.id} set VN_DEBUG={debug} but its output has no Venus debug lines: Mesa's log "
                "level hides them (release builds default to info)",
                [Evidence(target.start_seq, f"run #{target.id}", f"VN_DEBUG={debug}")],
                "Set MESA_LOG_LEVEL=debug beside VN_DEBUG (venustui does this for the runs it starts)"))
    out += _hidden_in_a_users_log(model)
    return out


def _hidden_in_a_users_log(model: Model) -> list[Finding]:
    """A command in a pasted terminal asked for VN_DEBUG=init (or all), yet no vn_env block followed in the log."""
    for note in (n for n in model.notable if n.what == "venus_command"):
        command = str(note.fields.get("command", ""))
        debug = re.search(r"\bVN_DEBUG=(\S+)", command)
        if not debug or not {"init", "all"} & set(debug.group(1).strip("'\"").split(",")):
            continue
        if re.search(r"\bMESA_LOG_LEVEL=['\"]?debug", command) or any(r.start_seq > note.seq for r in model.runs):
            continue
        if (model.numbering.number(note.source, note.seq) or 0) >= model.lines[note.source]:
            continue  # the log ends with the command: nothing followed it yet
        return [Finding("venus-lines-hidden", WARNING,
                        f"a command in this log set VN_DEBUG={debug.group(1)} but no Venus debug line (MESA-VIRTIO: "
                        "vn_env …) follows it: Mesa 26.1 and newer hide them below MESA_LOG_LEVEL=debug (release "
                        "builds default to info)", [Evidence(note.seq, note.source, note.text)],
                        "Run it again with MESA_LOG_LEVEL=debug beside VN_DEBUG")]
    return []


