"""Fences and queues, said once: a fence's life on one line (created, submitted, polled, signaled or
how long unsignaled, which path answered, its tie to the other side) and a queue's."""

from __future__ import annotations

from collections import Counter

from venustui.model import Fence, Model, Queue
from venustui.present import BAD, DIM, GOOD, WARN, Row, hexs, span

STATE_TONE = {"timeout": BAD, "stuck": BAD, "failed": BAD, "signaled": GOOD}


def fence_line(model: Model, fence: Fence, tie: tuple[str, bool] | None) -> str:
    host = model.fences.get(tie[0]) if tie else None
    handle = fence.handle if fence.handle is not None else (host.handle if host else None)
    name = f"fence {hexs(handle)}"
    if fence.side == "guest":
        origin = f"guest run {fence.run}"
        if host is not None:
            origin += f", host handle {hexs(host.handle)} (tie inferred: one fence on each side)" if tie[1] else ""
            if fence.handle is not None:
                name = f"fence {hexs(fence.handle)}"
    else:
        origin = "host" + (f" device {hexs(fence.device)}" if fence.device is not None else "")
        origin += f", run {fence.run}" if fence.run else ""
    parts = [f"created {fence.create_result or '?'}"]
    if fence.submit_count > 3:
        results = Counter(r for _, r in fence.submits)
        parts.append(f"submitted {fence.submit_count}× (last {len(fence.submits)}: "
                     + ", ".join(f"{r} ×{n}" for r, n in results.items()) + ")")
    elif fence.submits:
        parts.append("submitted " + ", ".join(r for _, r in fence.submits))
    if fence.status_polls:
        parts.append(f"status polls {fence.status_polls} ({fence.not_ready_polls} NOT_READY)")
    if fence.host_status_calls:
        parts.append(f"host vkGetFenceStatus calls {fence.host_status_calls}")
    if fence.waits:
        parts.append("wait " + ", ".join(r for _, r in fence.waits))
    if fence.signaled_wall is not None:
        parts.append(f"signaled {span(fence.signaled_wall - fence.created_wall)} after its creation")
    elif fence.state != "failed":  # "now" is the newest line's arrival: replays and tests show the same
        parts.append(f"unsignaled {span(model.last_wall - fence.created_wall, whole=True)} after its creation "
                     "(to the newest line)")
    path = f"  path: {fence.path} ({fence.path_evidence})" if fence.path else ""
    return f"{name} [{origin}]: {'; '.join(parts)} → {fence.state.upper()}{path}"


def fence_rows(model: Model, newest: int | None = None, ties_too: bool = False) -> list[Row]:
    """Every fence but the host side of a tie (said with its guest fence), the newest ones if a limit
    is given (with a row counting the rest), and, with ties_too, the ties themselves."""
    ties = model.fence_ties()
    tied = {host for host, _ in ties.values()}
    shown = [fence for fence in model.fences.values() if fence.key not in tied]
    rows = []
    if newest is not None:
        hidden = len(shown) - newest + model.fences_evicted
        if hidden > 0:  # a flood makes thousands: the newest are the ones being chased
            rows.append(Row(f"{hidden:,} older fences not shown (the last {newest} are)", DIM))
        shown = shown[-newest:]
    rows += [Row(fence_line(model, f, ties.get(f.key)), STATE_TONE.get(f.state, WARN)) for f in shown]
    if ties_too:
        rows += [Row(f"tie: {guest} ↔ {host}" + (" (inferred: the run has one fence on each side)" if inferred
                                                 else ""), DIM) for guest, (host, inferred) in ties.items()]
    return rows


def probe_fence_rows(model: Model) -> list[Row]:
    """The fence each probe run's fence phase made, and how that run ended."""
    rows = []
    for target in model.targets.values():
        if target.phase != "fence":
            continue
        fence = next((s for s in target.steps if s.get("step") == "fence"), None)
        handle = fence.get("handle", "-") if fence else "not created"
        rows.append(Row(f"probe #{target.id} fence {handle} [{target.flags or 'defaults'}]: "
                        f"{target.outcome.get('text', 'running…')}",
                        GOOD if target.outcome.get("status") == "passed" else BAD))
    return rows


def queue_line(model: Model, queue: Queue) -> str:
    """A queue, where it came from and what was submitted on it; a guest queue also names the
    fences of its run (the logs do not say which queue a fence went to, its run does)."""
    parts = [f"{queue.side} queue {hexs(queue.handle)}", f"device {hexs(queue.device)}", f"run {queue.run or '-'}"]
    if queue.family is not None:
        parts.append(f"family {queue.family} index {queue.index}")
    parts.append(f"submits {queue.submits}")
    run = model.run(queue.run) if queue.side == "guest" and queue.run else None
    fences = [model.fences[key] for key in run.fences if key in model.fences] if run else []
    if fences:
        parts.append("fences of its run: " + ", ".join(f"{hexs(f.handle)} {f.state}" for f in fences))
    return "  ".join(parts)


def queue_rows(model: Model) -> list[Row]:
    return [Row(queue_line(model, q)) for q in sorted(model.queues.values(), key=lambda q: q.first_seq)]
