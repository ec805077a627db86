"""Where a handle value appears: the log lines that carry it, and the runs, devices, sources and
roles the model saw it in. ``venustui decode --log`` prints this next to the decoding."""

from __future__ import annotations

from venustui.parse import find_handles
from venustui.parse.text import decode as decode_text

HIT_LIMIT = 20  # lines quoted per value; the count covers them all


def find_provenance(value: int, paths: list[str], model) -> dict:
    """Where a value appears: file:line hits, and the model's runs, devices and sources."""
    hits = []
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                if b"0x" not in raw and b"0X" not in raw:  # most lines hold no hex: skip decoding them
                    continue
                text = decode_text(raw.rstrip(b"\n"))
                if value in find_handles(text):
                    total += 1
                    if len(hits) < HIT_LIMIT:
                        hits.append({"file": path, "line": number, "text": text[:300]})
    seen = model.handles.get(value) if model else None
    return {
        "count": total,
        "hits": hits,
        "runs": sorted(seen.runs) if seen else [],
        "devices": [f"0x{d:x}" for d in sorted(seen.devices)] if seen else [],
        "sources": sorted(seen.sources) if seen else [],
        "roles": sorted(seen.roles) if seen else [],
    }


def provenance_rows(p: dict) -> list[str]:
    """A provenance as text rows: a one-line tally, a warning for reused values, then the hits."""
    if not p["count"]:
        return []
    rows = [f"{p['count']} line(s); runs {', '.join(map(str, p['runs'])) or '-'}; "
            f"devices {', '.join(p['devices']) or '-'}; sources {', '.join(p['sources']) or '-'}"
            + (f"; as {', '.join(p['roles'])}" if p["roles"] else "")]
    if len(p["runs"]) > 1 or len(p["devices"]) > 1:
        rows.append("the same value in several runs or devices: a counter or a wrapping layer, not a fresh pointer")
    rows += [f"{h['file']}:{h['line']}: {h['text']}" for h in p["hits"]]
    return rows
