"""The VN_DEBUG and VN_PERF option names by Mesa version, with their bits.

From Mesa's ``src/virtio/vulkan/vn_common.{h,c}`` across releases (VENUS_FACTS.md).
Bits are stable: Mesa numbers each option explicitly and a removed option
leaves its bit unused. Where a bit is not known from the sources it is None, and
a mask shows that bit by number rather than guessing a name.
"""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int]


@dataclass(frozen=True)
class Flag:
    variable: str  # "VN_DEBUG" | "VN_PERF"
    name: str
    bit: int | None
    since: Version
    until: Version | None = None  # first version without it
    renamed_to: str | None = None
    note: str = ""

    def present_in(self, version: Version) -> bool:
        return self.since <= version and (self.until is None or version < self.until)


LATEST: Version = (26, 2)

CATALOGUE: tuple[Flag, ...] = (
    Flag("VN_DEBUG", "init", 0, (22, 0)),
    Flag("VN_DEBUG", "result", 1, (22, 0)),
    Flag("VN_DEBUG", "vtest", 2, (22, 0)),
    Flag("VN_DEBUG", "wsi", 3, (22, 0)),
    Flag("VN_DEBUG", "no_abort", 4, (23, 0)),
    Flag("VN_DEBUG", "log_ctx_info", 5, (23, 1)),
    Flag("VN_DEBUG", "cache", 6, (23, 1)),
    Flag("VN_DEBUG", "no_sparse", 7, (23, 3)),
    Flag("VN_DEBUG", "gpl", 8, (23, 3), until=(24, 1), renamed_to="no_gpl"),
    Flag("VN_DEBUG", "no_gpl", 8, (24, 1)),
    Flag("VN_DEBUG", "no_second_queue", None, (25, 0)),
    Flag("VN_DEBUG", "no_ray_tracing", None, (25, 0)),
    Flag("VN_DEBUG", "mem_budget", None, (25, 0)),
    Flag("VN_DEBUG", "no_desc_heap", None, (26, 2)),
    Flag("VN_DEBUG", "no_drm_syncobj", None, (26, 2)),
    Flag("VN_PERF", "no_async_set_alloc", 0, (22, 0)),
    Flag("VN_PERF", "no_async_buffer_create", 1, (22, 0)),
    Flag("VN_PERF", "no_async_queue_submit", 2, (22, 0)),
    Flag("VN_PERF", "no_event_feedback", 3, (22, 2), note="event feedback"),
    Flag("VN_PERF", "no_fence_feedback", 4, (22, 2), until=(26, 2),
         note="fence feedback; 26.2 makes fences guest-side renderer syncs"),
    Flag("VN_PERF", "no_memory_suballoc", 5, (23, 0), until=(24, 2)),
    Flag("VN_PERF", "no_cmd_batching", 6, (23, 0)),
    Flag("VN_PERF", "no_timeline_sem_feedback", 7, (23, 1), until=(24, 1),
         renamed_to="no_semaphore_feedback", note="semaphore feedback"),
    Flag("VN_PERF", "no_semaphore_feedback", 7, (24, 1), note="semaphore feedback"),
    Flag("VN_PERF", "no_query_feedback", 8, (23, 2), note="query feedback"),
    Flag("VN_PERF", "no_async_mem_alloc", 9, (23, 3)),
    Flag("VN_PERF", "no_tiled_wsi_image", 10, (24, 0)),
    Flag("VN_PERF", "no_multi_ring", 11, (24, 0)),
    Flag("VN_PERF", "no_async_image_create", 12, (24, 0)),
    Flag("VN_PERF", "no_async_image_format", 13, (24, 1)),
    Flag("VN_PERF", "no_async_present", None, (26, 2)),
    Flag("VN_PERF", "no_timeline_sync", None, (26, 2)),
)

FEEDBACK_FLAGS = ("no_fence_feedback", "no_semaphore_feedback", "no_event_feedback", "no_query_feedback")


def parse_version(text: str | None) -> Version:
    if not text:
        return LATEST
    parts = text.split(".")
    return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0


def flags_for(variable: str, version: Version = LATEST) -> list[Flag]:
    return [f for f in CATALOGUE if f.variable == variable and f.present_in(version)]


def decode_mask(variable: str, mask: int, version: Version | None = None) -> list[str]:
    """Names of the bits set in a vn_env mask; unknown bits show as ``bitN``.

    Without a version, a bit's name is the newest one that used that bit.
    """
    by_bit: dict[int, str] = {}
    for flag in CATALOGUE:
        if flag.variable != variable or flag.bit is None:
            continue
        if version is not None and not flag.present_in(version):
            continue
        if version is None and flag.until is not None and flag.renamed_to:
            continue  # prefer the newer name for a renamed bit
        by_bit.setdefault(flag.bit, flag.name)
    names = []
    bit = 0
    while mask >> bit:
        if mask >> bit & 1:
            names.append(by_bit.get(bit, f"bit{bit}"))
        bit += 1
    return names
