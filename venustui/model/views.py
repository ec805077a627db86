"""Views derived from a model that only read it: fence ties, repeated handles, the snapshot and everything.

Functions of a ``Model`` (whose methods of the same names delegate here), never called per line;
this module imports nothing of the fold, so it has no cycle with it.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from venustui.model.entities import Fence
from venustui.model.handle_table import HandleSeen

if TYPE_CHECKING:
    from venustui.model.fold import Model


def lab_setup(model: Model) -> dict:
    """The lab the session ran on, from its last "lab" action ({} for a user's own logs)."""
    return next((dict(data) for _, name, data in reversed(model.actions) if name == "lab"), {})


def fence_ties(model: Model) -> dict[str, tuple[str, bool]]:
    """guest fence key -> (host fence key, inferred).

    Logs rarely name the same fence on both sides (the guest's handle is a
    guest pointer, the host's a driver handle). Where a run has exactly one
    fence on each side, the two are the same fence; that is an inference.
    """
    ties: dict[str, tuple[str, bool]] = {}
    host_by_run: dict[int | None, list[Fence]] = {}
    for fence in model.fences.values():
        if fence.side == "host":
            host_by_run.setdefault(fence.run, []).append(fence)
    runs_with_fences = [r for r in model.runs if r.fences]
    for run in runs_with_fences:
        if len(run.fences) != 1 or run.fences[0] not in model.fences:
            continue
        hosts = host_by_run.get(run.id, [])
        if not hosts and len(runs_with_fences) == 1:
            hosts = host_by_run.get(None, [])
        if len(hosts) == 1:
            ties[run.fences[0]] = (hosts[0].key, True)
    return ties


def repeated_handles(model: Model) -> list[HandleSeen]:
    """Values seen in several runs or on several devices (the seed's clue)."""
    return [h for h in model.handles.values() if len(h.runs) > 1 or len(h.devices) > 1]


def snapshot(model: Model) -> dict[str, Any]:
    """Everything the model holds, as plain data (for comparing live and replayed states)."""
    return _plain({
        "runs": model.runs,
        "devices": sorted(model.devices.values(), key=lambda d: (d.side, d.handle)),
        "queues": sorted(model.queues.values(), key=lambda q: (q.side, q.handle)),
        "fences": list(model.fences.values()),
        "ties": fence_ties(model),
        "ring": model.ring,
        "targets": list(model.targets.values()),
        "actions": model.actions,
        "handles": sorted(model.handles.values(), key=lambda h: h.value),
        "counts": sorted(model.counts.items()),
        "lines": sorted(model.lines.items()),
        "cut": sorted(model.cut_lines.items()),
        "virtio_gpu": [model.virtio_gpu[source] for source in sorted(model.virtio_gpu)],
        "vulkan_devices": [{**_plain(device), "host_gpu": device.host_gpu, "venus": device.venus}
                           for device in model.vulkan_devices],
        "overflow": sorted(model.overflow_bytes.items()),
        "formats": sorted(model.formats.items()),
        "notable": model.notable,  # the evidence findings point at
        "kinds": sorted(model.kinds.items()),  # the records findings read
    })


def everything(model: Model) -> dict[str, Any]:
    """Every part of the model, its private indexes included, as plain data: what a journal's stored closing
    state is checked against (the snapshot leaves out what depends on how the input was chunked)."""
    return {name: _plain(value) for name, value in vars(model).items()}


def _plain(value: Any) -> Any:
    """Dataclasses, the model's other objects, sets and deques to JSON-like data, deterministic in order."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if type(value).__module__.startswith("venustui.model") and hasattr(value, "__dict__"):
        return {name: _plain(part) for name, part in vars(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, (list, tuple, deque)):
        return [_plain(v) for v in value]
    return value
