"""The state a Venus debugger reasons about, as a pure fold over records and notices.

``Model.apply`` takes events in sequence order and nothing else; feeding the same
events (live, or replayed from a journal) always reaches the same state, which
``snapshot()`` exposes as plain data.

- ``entities``: what the model holds (runs, devices, queues, fences, the ring, ...);
- ``handle_table``: every handle value seen, bounded in memory;
- ``fold``: ``Model`` and how each event changes it (the hot path);
- ``views``: what is derived from a model by reading it (fence ties, snapshot).
"""

from __future__ import annotations

from venustui.model.entities import (
                                     FEEDBACK_BITS,
                                     RECENT,
                                     SAMPLE_LIMIT,
                                     Device,
                                     Fence,
                                     Notable,
                                     Queue,
                                     Ring,
                                     Run,
                                     Step,
                                     StuckWait,
                                     TargetRun,
                                     VirtioGpu,
                                     VulkanDevice,
)
from venustui.model.fold import FENCE_LIMIT, GUEST_FORMATS, HOST_FORMATS, NOTABLE_LIMIT, PROBE_ROLES, Model
from venustui.model.handle_table import HANDLE_LIMIT, HandleSeen, HandleTable

__all__ = [
    "FEEDBACK_BITS", "FENCE_LIMIT", "GUEST_FORMATS", "HANDLE_LIMIT", "HOST_FORMATS", "NOTABLE_LIMIT", "PROBE_ROLES",
    "RECENT", "SAMPLE_LIMIT", "Device", "Fence", "HandleSeen", "HandleTable", "Model", "Notable", "Queue", "Ring",
    "Run", "Step", "StuckWait", "TargetRun", "VirtioGpu", "VulkanDevice",
]
