"""Plain-terminal views of records, model summaries and handle decodings (watch, decode).

Everything from a log is wrapped in ``rich.text.Text`` after ``visible()``: never
markup, never an escape sequence passed through.
"""

from __future__ import annotations

import re
import time
from collections import Counter

from rich.text import Text

from venustui import handles as H
from venustui.events import LINE_LIMIT as SPLIT_LIMIT
from venustui.events import Notice, Record, RunEvent
from venustui.model import Model
from venustui.parse import envelope
from venustui.parse.text import shown, visible
from venustui.present import DIM, Row, hexs
from venustui.present.fences import fence_rows, queue_rows
from venustui.present.gpu import gpus_rows
from venustui.present.ring import ring_rows
from venustui.present.runs import run_rows

TONE_STYLE = {"": "", "dim": "dim", "good": "green", "warn": "yellow", "bad": "red", "fatal": "bold red",
              "heading": "bold"}
LEVEL_STYLE = {"debug": "dim", "info": "", "warn": "yellow", "error": "bold red"}
NOTICE_STYLE = {"error": "bold red", "deleted": "yellow", "truncated": "yellow", "rotated": "cyan",
                "recreated": "cyan", "exited": "magenta"}
LINE_LIMIT = 400  # characters of a line watch prints
LINE_LIMIT_NOTE = f"{SPLIT_LIMIT >> 20} MiB"


def handle_hint(value: int) -> str:
    best = H.decode(value)[0]
    if best.key == "validation-id":
        return f"[validation id {best.fields[1].value(value)}]"
    return ""


def describe(rec: Record) -> str:
    """One line saying what a record means, in Venus terms."""
    return _describe(rec.fmt, rec.what, rec.fields, rec.text, rec.handles)


def describe_notable(n) -> str:
    """The same for a line the model kept as evidence."""
    return _describe(n.fmt, n.what, n.fields, n.text, ())


def _describe(fmt: str, what: str, f: dict, text: str, handles) -> str:
    if fmt == "step" and what == "step":
        out = f"step {f['num']} {f['name']}"
        if f.get("result"):
            out += f" → {f['result']}"
        if f.get("detail"):
            out += f"  {f['detail']}"
        return out
    if fmt == "step" and what == "progress":
        return f"{f['name']} {f['status']}" + (f"  {f['detail']}" if f.get("detail") else "")
    if what == "vn_env_field" and "mask" in f:
        names = ", ".join(f["names"]) or "none set"
        return f"vn_env {f['key']} = {f['value']} → {names}"
    if what == "stuck_wait":
        return f"stuck in {f['reason']} wait (iter {f.get('iter', '?')})"
    if what == "lost_connection":
        return f"lost connection to the render server: {f['op']} returned {f['ret']} {f.get('errno_name', '')}".rstrip()
    if fmt == "vkr":
        out = f"[VKR] {f['fn']}"
        if "result" in f:
            out += f" → {f['result']}"
        extras = [f"{k}={v}" for k, v in f.items() if k not in ("fn", "message", "ret", "result")]
        if extras:
            out += "  " + " ".join(extras)
        hints = [handle_hint(h) for h in handles]
        return out + "".join(f" {h}" for h in hints if h)
    if what == "call_failed":
        return f"{f['caller']}: {f['callee']} failed {f['ret']} ({f['errno']})"
    if fmt == "loader" and what == "icd_manifest":
        return f"ICD manifest found: {f['manifest']} (version {f['version']})"
    if fmt == "loader" and what == "device_driver":
        return f"{f['device']} uses {f['library']}"
    if fmt == "vtest" and what == "failure":
        return f"{f['caller']}: {f['reason']} failed {f['ret']} ({f['errno']})"
    if what == "client_status":
        return f"vtest client: {f['status']}"
    if what == "ring_seqno_unreachable":
        return f"{f['fn']}: ring seqno {f['seqno']} can never reach wait seqno {f['wait']}"
    if what == "version_not_found":
        return f"{f['by']} needs {f['version']}" + (" (weak: loads anyway)" if f.get("weak") else "")
    if what == "validation":
        objs = ", ".join(f"{hexs(h)} {t.removeprefix('VK_OBJECT_TYPE_')}" for h, t in f.get("objects", ()))
        return f"validation {f['severity'].lower()} {f.get('vuid', '')} {objs}".rstrip()
    if what == "hvf_error" and "name" in f:  # the message before the hv_return_t, and the result itself
        return f"{f.get('message', '')}{f['name']}" + (f" ({f['code']})" if "code" in f else "")
    if "message" in f and fmt != "text":
        return str(f["message"])
    return text


def describe_wrapped(rec: Record) -> str:
    """describe() for a line shown after its envelope's tag: a line that says nothing more than its text shows what
    its envelope wrapped, not the envelope again."""
    said = describe(rec)
    if said == rec.text and ("time" in rec.fields or "prog" in rec.fields or "log_file" in rec.fields):
        wrapped = envelope.peel(said)
        return said[wrapped.at:wrapped.end]
    return said


CLOCK = re.compile(r"\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?")
PACKED_CLOCK = re.compile(r"/(\d{2})(\d{2})(\d{2}(?:\.\d{1,6})?)")  # Chromium's 1126/100000.123456


def _seconds_stamp(stamp: str) -> str:
    """A stamp in seconds as shown: since the epoch (QEMU's trace backend, journald's JSON) as its UTC time of day,
    since boot or a program's start (dmesg, logrus) as written."""
    whole, _, fraction = stamp.partition(".")
    if not whole.isdigit() or not (fraction.isdigit() or not fraction):
        return ""
    if len(whole) < 9 or len(whole) > 11:
        return stamp
    seconds = int(whole) % 86400
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" + (f".{fraction[:6]}" if fraction else "")


def envelope_tag(fields: dict) -> str:
    """What a line's envelope said, compactly: the program (and pid), else the file grep named, and the clock of
    its own stamp."""
    prog = fields.get("prog") or fields.get("log_file")
    if prog is None and "time" not in fields:  # most lines: nothing to say, and this runs for every one
        return ""
    stamp = str(fields.get("time", ""))
    clock = CLOCK.search(stamp)
    packed = PACKED_CLOCK.search(stamp) if clock is None else None
    when = clock.group() if clock else ":".join(packed.groups()) if packed else _seconds_stamp(stamp)
    who = f"{prog}[{fields['pid']}]" if prog and "pid" in fields else (prog or "")
    tag = " ".join(part for part in (who, when) if part)
    return visible(f"{tag} · ", 80) if tag else ""


# watch's per-line view ----------------------------------------------------------------
SGR = {"dim": "2", "cyan": "36", "blue": "34", "yellow": "33", "bold red": "1;31", "red": "31", "magenta": "35"}


class EventPrinter:
    """watch's per-line view, written straight to a text stream: a line per log line (time, source and
    stream, format/kind, what it means) and per notice. Plain text in a pipe, ANSI styles on a
    terminal; never rich per line (rich cost ~200 µs a line). Log text always goes through visible()."""

    def __init__(self, out, display_parser, color: bool = False):
        self.out = out
        self.parser = display_parser  # parses untracked lines for showing only
        self.color = color
        self._parts: list[str] = []
        self._stamp_of: tuple[float, str] = (-1.0, "")

    def _style(self, text: str, style: str) -> str:
        code = SGR.get(style) if self.color else None
        return f"\x1b[{code}m{text}\x1b[0m" if code else text

    def _stamp(self, wall: float) -> str:
        if self._stamp_of[0] != wall:
            stamp = time.strftime("%H:%M:%S", time.localtime(wall)) + f".{int(wall * 1000) % 1000:03d}"
            self._stamp_of = (wall, self._style(stamp, "dim"))
        return self._stamp_of[1]

    def _row(self, wall: float, where: str, kind: str, text: str, style: str) -> None:
        self._parts.append(f"{self._stamp(wall)} {self._style(f'{where:<14.14}', 'cyan')} "
                           f"{self._style(f'{kind:<26.26}', 'blue')} {self._style(text, style)}\n")

    def batch(self, batch) -> None:
        for event, records in batch:
            if isinstance(event, Notice):
                self._row(event.wall, event.source, "source/" + event.kind, visible(event.message, LINE_LIMIT),
                          NOTICE_STYLE.get(event.kind, "dim"))
            elif isinstance(event, RunEvent):
                if event.kind == "probe" and event.data.get("ev") in ("step", "sample", "phase", "error"):
                    self._parts.append(probe_event_text(event.data).plain + "\n")
            elif not event.overflow:
                self._chunk(event, records)
        self.flush()

    def _chunk(self, chunk, records: list[Record]) -> None:
        parsed: dict[int, list[Record]] = {}
        for record in records:
            parsed.setdefault(record.seq, []).append(record)
        where = chunk.source if chunk.stream in ("file", "stdin", "serial") else f"{chunk.source}:{chunk.stream}"
        parse = self.parser.parse
        for line in chunk.lines():
            for record in parsed.get(line.seq) or parse(line):
                if record.fmt == "text":  # the line as written, escape sequences shown
                    meaning = shown(line.data, LINE_LIMIT)
                else:
                    meaning = envelope_tag(record.fields) + visible(describe_wrapped(record), LINE_LIMIT)
                if line.cut:
                    meaning += self._style(f"  (cut at {LINE_LIMIT_NOTE}; the rest of the line is counted, "
                                           "not parsed)", "dim")
                elif not line.terminated:
                    meaning += self._style("  (no newline at its end)", "dim")
                self._row(line.wall, where, f"{record.fmt}/{record.what}", meaning,
                          LEVEL_STYLE.get(record.level, ""))

    def flush(self) -> None:
        if self._parts:
            self.out.write("".join(self._parts))
            self._parts = []
            self.out.flush()


# summaries -------------------------------------------------------------------------
ENDS_SHOWN = 10  # of a long list in a summary, the first and the last this many (a poll loop makes thousands of runs)
EVIDENCE_SHOWN = 6  # a finding's evidence lines printed; the rest counted


def _ends(said: list[Row], what: str) -> list[Row]:
    """A long list's first and last ENDS_SHOWN rows, and how many between (a report has them all)."""
    if len(said) <= 2 * ENDS_SHOWN + 1:
        return said
    hidden = len(said) - 2 * ENDS_SHOWN
    return [*said[:ENDS_SHOWN], Row(f"… {hidden:,} more {what} (venustui report lists every one)", DIM),
            *said[-ENDS_SHOWN:]]


def summary(model: Model) -> list[Text]:
    out: list[Text] = []

    def head(title: str) -> None:
        out.append(Text(title, style="bold"))

    def item(text: str, style: str = "") -> None:
        out.append(Text("  " + visible(text, 1000), style=style))

    def rows(said: list[Row]) -> None:
        for row in said:
            item(row.text, TONE_STYLE[row.tone])

    out.append(Text("── model summary " + "─" * 40, style="bold"))
    head(f"Runs ({len(model.runs)})")
    rows(_ends(run_rows(model), "runs"))
    head(f"Devices ({len(model.devices)})")
    for dev in sorted(model.devices.values(), key=lambda d: d.first_seq):
        runs = ",".join(str(r) for r in sorted(dev.runs)) or "-"
        item(f"{dev.side} device {hexs(dev.handle)}  runs {runs}  queues {len(dev.queues)}  fences {dev.fences}")
    head(f"Queues ({len(model.queues)})")
    rows(queue_rows(model))
    head(f"Fences ({len(model.fences)})")
    rows(_ends(fence_rows(model, ties_too=True), "fences"))
    head("Ring")
    rows(ring_rows(model))
    if model.virtio_gpu or model.vulkan_devices:
        head("virtio-gpu and Vulkan devices")
        rows(gpus_rows(model))
    errors = Counter((n.fmt, n.what, describe_notable(n)) for n in model.notable if n.level == "error" and n.fmt != "step")
    if errors:
        head("Errors")
        for (_fmt, _what, text), count in errors.items():
            item(f"{text}" + (f"  ×{count}" if count > 1 else ""), "red")
    if model.cut_lines:
        head("Long lines")
        for source, count in sorted(model.cut_lines.items()):
            item(f"{source}: {count} line(s) longer than {LINE_LIMIT_NOTE}: their first {LINE_LIMIT_NOTE} parsed, "
                 f"{model.overflow_bytes[source]:,} bytes beyond counted (and kept in a recording), not parsed", "yellow")
    repeated = model.repeated_handles()
    if repeated:
        head("Repeated handles")
        for seen in sorted(repeated, key=lambda h: -h.count):
            best = H.decode(seen.value)[0]
            runs = ",".join(str(r) for r in sorted(seen.runs)) or "-"
            devices = ",".join(hexs(d) for d in sorted(seen.devices)) or "-"
            item(f"{hexs(seen.value)} seen {seen.count}× in runs {runs}, devices {devices}, "
                 f"sources {','.join(sorted(seen.sources))}: {best.title}")
    problems = [n for n in model.notices if n.kind == "error"]
    if problems:
        head("Source problems")
        for notice in problems:
            item(notice.message, "red")
    return out


def decoding(value: int, provenance: list[str] | None = None) -> list[Text]:
    out = [Text(f"{hexs(value)}  ({value})", style="bold")]
    for rank, layout in enumerate(H.decode(value), 1):
        out.append(Text(f"{rank}. {layout.title}  [{layout.score:.2f}]", style="bold" if rank == 1 else ""))
        out.append(Text("   " + layout.explanation))
        for row in H.bit_diagram(value, layout.fields):
            out.append(Text("     " + row, style="dim"))
    if provenance is not None:
        out.append(Text("Seen in the logs:", style="bold"))
        for row in provenance or ["not found in the given logs"]:
            out.append(Text("   " + visible(row, 1000)))
    return out


# probe and triage ----------------------------------------------------------------------
def probe_event_text(event: dict) -> Text:
    kind = event.get("ev")
    line = Text()
    line.append(f"{event.get('phase', ''):<6} ", style="cyan")
    if kind == "sample":
        fence = "signaled" if event.get("fence_ms") is not None else "NOT signaled"
        text = f"sample: fence {fence}"
        if event.get("fence_ms") is not None:
            text += f" after {event['fence_ms']:.3f} ms"
        if "slot_ms" in event:
            text += ", slot " + (f"written after {event['slot_ms']:.3f} ms" if event.get("slot_ms") is not None
                                 else "never written")
        text += f", {event.get('polls', 0)} polls"
        if event.get("disagreement"):
            text += f"  DISAGREE: {event['disagreement']}"
        line.append(visible(text), style="red" if event.get("disagreement") else "")
    elif kind == "step":
        ok = event.get("result") in ("VK_SUCCESS", "VK_NOT_READY")
        line.append(visible(f"{event.get('step', ''):<14} {event.get('result', '')} {event.get('ms', 0):.3f} ms"),
                    style="" if ok else "red")
    elif kind == "error":
        line.append(visible(event.get("message", "")), style="bold red")
    else:
        line.append(visible(f"{kind}: {event.get('outcome', '')}"))
    return line


def probe_run(record) -> list[Text]:
    out = [Text(f"{record.phase} phase: {record.outcome.text()}  ({record.seconds:.2f} s, run {record.run})",
                style="bold green" if record.outcome.passed else "bold red")]
    for step in record.steps:
        extra = [f"{k}={v}" for k, v in step.items()
                 if k in ("handle", "name", "driver_id", "driver_info", "api_version", "via", "polls", "fence_ms",
                          "slot_ms", "disagreement", "memory_type") and v not in ("", None)]
        ok = step.get("result") in ("VK_SUCCESS", "VK_NOT_READY")
        out.append(Text(visible(f"  {step.get('step', ''):<14} {step.get('result', ''):<22} "
                                f"{step.get('ms', 0):>9.3f} ms  {' '.join(extra)}"), style="" if ok else "red"))
    for metric in record.metrics:
        if metric.get("name") == "poll_rate":
            out.append(Text(f"  status polls/s {metric['polls_per_s']:,} (bare vkGetFenceStatus loop "
                            f"{metric['bare_polls_per_s']:,}, ratio {metric['ratio']:.2f})"))
        elif metric.get("name") == "polls_until_signaled":
            out.append(Text(f"  signaled after {metric['polls']} status poll(s), {metric['ms']:.3f} ms"))
    for note in record.env.notes:
        out.append(Text("  env: " + visible(note), style="yellow"))
    return out


def triage_header(target: str, phase: str) -> Text:
    return Text(f"triage of {target}, {phase} phase:  run  flags                              outcome", style="bold")


def triage_row(record) -> Text:
    style = "green" if record.outcome.passed else "red"
    return Text(visible(f"  #{record.run:<3} {record.flags.describe():<40.40} {record.outcome.text()}  "
                        f"({record.seconds:.1f} s)"), style=style)


def triage_summary(result) -> list[Text]:
    out = [Text(visible(result.finding()), style="bold")]
    out.append(Text(f"{len(result.runs)} run(s)"))
    for check in result.ignored:
        out.append(Text(visible(f"not tried: {check.name}: {check.problem}"), style="yellow"))
    for name in result.not_effective:
        out.append(Text(visible(f"{name} did not take effect: the guest's perf mask lacks its bit"), style="yellow"))
    return out


SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}


def findings(items) -> list[Text]:
    """Findings ranked: the top one with its cause, fix and references; the others with what tells them apart."""
    if not items:
        return []
    out = [Text("── findings " + "─" * 45, style="bold")]
    for rank, finding in enumerate(items):
        top = rank == 0 and finding.severity != "info"
        label = "TOP " if top else ""
        out.append(Text(visible(f"{label}{finding.severity.upper()} ({finding.confidence}): {finding.claim}", 2000),
                        style=SEVERITY_STYLE.get(finding.severity, "")))
        for evidence in finding.evidence[:EVIDENCE_SHOWN]:
            where = f"{evidence.source}:{evidence.line}" if evidence.line else f"#{evidence.seq} {evidence.source}"
            out.append(Text(visible(f"    {where}: {evidence.text}", 300), style="dim"))
        if len(finding.evidence) > EVIDENCE_SHOWN:
            out.append(Text(f"    … and {len(finding.evidence) - EVIDENCE_SHOWN:,} more lines of evidence (venustui "
                            "report lists every one)", style="dim"))
        details = finding.details
        for key in (("cause", "fix", "versions") if top else ("confirm", "rule out")):
            if key in details:
                out.append(Text(visible(f"    {key}: {details[key]}", 2000)))
        if top and finding.references:
            out.append(Text(visible("    references: " + "; ".join(finding.references), 2000)))
        for cause, tells in finding.candidates:
            out.append(Text(visible(f"    candidate {cause}: {tells}", 2000)))
        if finding.next_step:
            out.append(Text(visible(f"    next: {finding.next_step}", 2000)))
    return out


def inspect_lines(entry: dict) -> list[Text]:
    out = [Text(visible(entry["what"]), style="bold")]
    if "problem" in entry:
        out.append(Text(visible(f"  {entry['library'] or '?'}: {entry['problem']}"), style="red"))
        return out
    out.append(Text(visible(f"  {entry['library']}  {entry['size']:,} bytes, {entry['arch']} {entry['bits']}-bit "
                            f"{entry['endian']}-endian, build-id {entry['build_id'] or 'none'}")))
    if entry.get("mesa_version"):
        out.append(Text(f"  Mesa {entry['mesa_version']}"))
    for variable, names in entry.get("flags", {}).items():
        out.append(Text(visible(f"  {variable}: " + ", ".join(f"{n['name']}={n['value']}" for n in names))))
    glibc = entry.get("glibc_max") or "-"
    out.append(Text(visible(f"  needs glibc up to {glibc}; DT_NEEDED {', '.join(entry.get('needed', [])) or '-'}")))
    info = "debug info" if entry.get("debug_info") else ("symbols" if entry.get("symtab") else "stripped")
    out.append(Text(visible(f"  {info}" + (f"; debuglink {entry['debuglink']}" if entry.get("debuglink") else "")
                            + f"; read in {entry.get('seconds', 0):.3f} s")))
    for note in entry.get("notes", []):
        out.append(Text(visible(f"  note: {note}"), style="yellow"))
    for problem in entry.get("problems", []):
        out.append(Text(visible(f"  note: {problem}"), style="yellow"))
    return out
