"""The ring, said once: stuck waits by reason, the host's seqno messages, FATAL and ALIVE aborts,
lost connections; or that nothing about it was logged."""

from __future__ import annotations

from venustui.model import Model
from venustui.present import BAD, DIM, FATAL, Row

RECENT_SEQNO = 5  # the host's newest seqno messages shown after their count


def ring_rows(model: Model) -> list[Row]:
    ring = model.ring
    rows = []
    for stuck in ring.stuck.values():
        runs = ",".join(str(r) for r in sorted(stuck.runs)) or "-"
        span = f"iterations {stuck.first_iter}..{stuck.max_iter}" if stuck.max_iter else stuck.reach()
        rows.append(Row(f"stuck in {stuck.reason} wait: {stuck.count} warning(s), {span}, run(s) {runs}", BAD))
    if ring.seqno_count:
        rows.append(Row(f"host: ring seqno cannot reach wait seqno ×{ring.seqno_count}; the newest:", BAD))
        rows += [Row(f"  #{seq} {fn}: ring seqno {seqno} cannot reach {wait}", BAD)
                 for seq, fn, seqno, wait in list(ring.seqno_pairs)[-RECENT_SEQNO:]]
    for _, what, iteration, run in ring.fatal:
        rows.append(Row(f"FATAL: {what}" + (f" at iteration {iteration}" if iteration is not None else "")
                        + (f" (run {run})" if run else ""), FATAL))
    for _, iteration, run in ring.alive_expired:
        rows.append(Row(f"ALIVE expired at iteration {iteration}: the host process or context is gone"
                        + (f" (run {run})" if run else ""), FATAL))
    for _, detail, run in ring.lost_connections:
        rows.append(Row(f"lost connection to the render server: {detail}" + (f" (run {run})" if run else ""), BAD))
    return rows or [Row("nothing logged about the ring (no stuck waits, no seqno messages)", DIM)]
