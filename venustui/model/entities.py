"""What the model holds: runs, their steps, devices, queues, fences, the ring's state, target runs
and the lines kept as evidence.

Plain dataclasses with the little behaviour that belongs to one entity (a fence's state changes,
a run's outcome); folding records into them is ``fold``'s job, reading them whole is ``views``'.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field
from typing import Any

RECENT = 32  # submits and waits kept per fence, results per run
SAMPLE_LIMIT = 2000
# VN_PERF bits that turn each kind of feedback slot off (VENUS_FACTS.md).
FEEDBACK_BITS = {"fence": 1 << 4, "event": 1 << 3, "semaphore": 1 << 7, "query": 1 << 8}


@dataclass
class Step:
    num: int
    role: str
    name: str
    result: str | None
    code: int | None
    seq: int
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.code is not None and self.code >= 0 and self.result not in ("VK_TIMEOUT",)


@dataclass
class Run:
    """A guest process's lifetime as its log shows it: from ``vn_env`` or step 1 to the next run."""

    id: int
    source: str
    start_seq: int
    end_seq: int | None = None
    end_reason: str = ""
    last_seq: int = 0
    debug_mask: int | None = None
    perf_mask: int | None = None
    debug_names: list[str] = field(default_factory=list)
    perf_names: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    progress: list[tuple[str, str, int]] = field(default_factory=list)  # (name, status, seq)
    facts: dict[str, Any] = field(default_factory=dict)  # wire format, renderer version, ...
    devices: list[int] = field(default_factory=list)
    queues: list[int] = field(default_factory=list)
    fences: list[str] = field(default_factory=list)

    @property
    def last_step(self) -> Step | None:
        return self.steps[-1] if self.steps else None

    @property
    def fence_feedback(self) -> bool | None:
        """Whether fence feedback was on, from the ``perf = 0x…`` line (None if not logged)."""
        return self.feedback().get("fence")

    def feedback(self) -> dict[str, bool]:
        """Which feedback slot kinds were on in this run ({} when the perf mask was not logged)."""
        if self.perf_mask is None:
            return {}
        return {kind: not self.perf_mask & bit for kind, bit in FEEDBACK_BITS.items()}

    def outcome(self) -> str:
        failed = next((s for s in self.steps if not s.ok), None)
        if failed is not None:
            return f"failed at step {failed.num} {failed.name} ({failed.result})"
        if self.steps:
            last = self.steps[-1]
            return f"last step {last.num} {last.name} OK; no output after it"
        if self.progress:
            name, status, _ = self.progress[-1]
            return f"last progress '{name} {status}'; no output after it"
        return "no steps logged"


@dataclass
class Device:
    handle: int
    side: str
    first_seq: int
    runs: set[int] = field(default_factory=set)
    queues: list[int] = field(default_factory=list)
    fences: int = 0  # created on it (the fences themselves may have been forgotten)


@dataclass
class Queue:
    handle: int
    side: str
    first_seq: int
    device: int | None = None
    run: int | None = None
    family: int | None = None
    index: int | None = None
    submits: int = 0


@dataclass
class Fence:
    """A fence from creation through submits and status polls to signaled or timed out."""

    key: str
    side: str
    handle: int | None
    source: str
    created_seq: int
    run: int | None = None
    device: int | None = None
    create_result: str | None = None
    # The most recent submits and waits (a flood of them must not grow memory); counts keep the rest.
    submits: deque = field(default_factory=lambda: deque(maxlen=RECENT))
    submit_count: int = 0
    status_polls: int = 0
    not_ready_polls: int = 0
    host_status_calls: int = 0
    waits: deque = field(default_factory=lambda: deque(maxlen=RECENT))
    state: str = "created"
    signaled_seq: int | None = None
    last_seq: int = 0
    path: str = ""
    path_evidence: str = ""
    slot: str = ""  # the fence's feedback slot as far as the logs tell
    # When the lines creating and signaling it arrived (wall clock, as recorded): time to signal.
    created_wall: float = 0.0
    signaled_wall: float | None = None

    # Pickled as a tuple, its deques as lists: a journal's closing state holds thousands of fences, and
    # this takes a third of the time a dict with deques does.
    def __getstate__(self) -> tuple:
        state = self.__dict__.copy()
        state["submits"], state["waits"] = list(self.submits), list(self.waits)
        return tuple(state.values())

    def __setstate__(self, state: tuple) -> None:
        self.__dict__.update(zip(FENCE_FIELDS, state))
        self.submits, self.waits = deque(self.submits, maxlen=RECENT), deque(self.waits, maxlen=RECENT)

    def note_status(self, seq: int, result: str | None, wall: float) -> None:
        self.status_polls += 1
        self.last_seq = seq
        if result == "VK_NOT_READY":
            self.not_ready_polls += 1
        elif result == "VK_SUCCESS":
            self._signal(seq, wall)
        elif result:
            self.state = "failed"

    def note_wait(self, seq: int, result: str | None, wall: float) -> None:
        self.waits.append((seq, result or "?"))
        self.last_seq = seq
        if result == "VK_SUCCESS":
            self._signal(seq, wall)
        elif result == "VK_TIMEOUT":
            if self.state != "signaled":
                self.state = "timeout"
        elif result:
            self.state = "failed"

    def note_submit(self, seq: int, result: str | None) -> None:
        self.submits.append((seq, result or "?"))
        self.submit_count += 1
        self.last_seq = seq
        if result in (None, "VK_SUCCESS"):
            if self.state in ("created",):
                self.state = "submitted"
        else:
            self.state = "failed"

    def _signal(self, seq: int, wall: float) -> None:
        self.state = "signaled"
        if self.signaled_seq is None:
            self.signaled_seq, self.signaled_wall = seq, wall


FENCE_FIELDS = tuple(Fence.__dataclass_fields__)


@dataclass
class TargetRun:
    """A run the runner started: target, flags and environment, what the probe reported, how it ended."""

    id: int
    target: str
    phase: str
    flags: str
    vn_perf: str
    start_seq: int
    env: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    samples: deque = field(default_factory=lambda: deque(maxlen=SAMPLE_LIMIT))
    outcome: dict[str, Any] = field(default_factory=dict)
    log_runs: list[int] = field(default_factory=list)  # runs seen in its output (vn_env, steps)
    source: str = "guest"  # the source its output comes as (the runner's label)
    end_seq: int | None = None


@dataclass
class StuckWait:
    reason: str
    count: int = 0
    first_iter: int = 0
    max_iter: int = 0
    first_seq: int = 0
    last_seq: int = 0
    runs: set[int] = field(default_factory=set)

    def reach(self) -> str:
        """How far the iterations went, as the lines say (a line cut short, as mail wraps it, loses its number)."""
        return f"up to iteration {self.max_iter}" if self.max_iter else "iterations cut from the lines"


@dataclass
class Ring:
    stuck: dict[str, StuckWait] = field(default_factory=dict)
    samples: deque = field(default_factory=lambda: deque(maxlen=SAMPLE_LIMIT))  # (seq, wall, reason, iter, run)
    seqno_pairs: deque = field(default_factory=lambda: deque(maxlen=SAMPLE_LIMIT))  # (seq, fn, seqno, wait)
    seqno_count: int = 0
    fatal: list[tuple[int, str, int | None, int | None]] = field(default_factory=list)  # (seq, what, iter, run)
    alive_expired: list[tuple[int, int | None, int | None]] = field(default_factory=list)
    lost_connections: list[tuple[int, str, int | None]] = field(default_factory=list)


@dataclass(slots=True)
class Notable:
    """A line worth pointing at later (errors, warnings, key steps), kept by reference. Its fields
    are the record's own: parsed fields are shared and never changed after parsing."""

    seq: int
    source: str
    fmt: str
    what: str
    level: str
    text: str
    run: int | None
    fields: dict[str, Any]


KIND_KEPT = 8  # records kept of each message kind: the first and the latest this many


@dataclass(slots=True)
class KindLog:
    """The records of one (format, message kind) folded so far: how many, the first and the latest few (by
    reference: a record's line and fields are never changed). What the knowledge base's signatures read."""

    count: int = 0
    first: list = field(default_factory=list)
    latest: deque = field(default_factory=lambda: deque(maxlen=KIND_KEPT))

    def add(self, record) -> None:
        self.count += 1
        if len(self.first) < KIND_KEPT:
            self.first.append(record)
        else:
            self.latest.append(record)

    def records(self) -> list:
        return self.first + list(self.latest)


@dataclass
class LineNumbers:
    """Each source's line numbers (1-based, as in its file) for the global sequence numbers of its lines."""

    chunks: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)  # source -> (first seqs, lines before)

    def add(self, source: str, seq: int, before: int) -> None:
        seqs, counts = self.chunks.setdefault(source, ([], []))
        seqs.append(seq)
        counts.append(before)

    def number(self, source: str, seq: int) -> int | None:
        seqs, counts = self.chunks.get(source, ((), ()))
        at = bisect_right(seqs, seq) - 1
        return None if at < 0 else counts[at] + seq - seqs[at] + 1


VENUS_CAPSET = 4  # virtio-gpu capset id of Venus (VIRTIO_GPU_CAPSET_VENUS)


@dataclass
class VirtioGpu:
    """The guest's virtio-gpu device as its kernel log describes it: features, capsets, the host memory
    window (QEMU's hostmem), and the errors the host answered commands with."""

    source: str
    first_seq: int
    features: list[str] = field(default_factory=list)  # +virgl, +resource_blob, +host_visible, +context_init...
    capsets: dict[int, tuple[int, int]] = field(default_factory=dict)  # capset id -> (max version, max size)
    hostmem_base: int | None = None
    hostmem_size: int | None = None
    errors: dict[str, int] = field(default_factory=dict)  # "response 0x1200 (command 0x209)" -> count
    errors_suppressed: int = 0  # error responses the kernel's rate limit kept out of the log

    @property
    def venus(self) -> bool:
        return VENUS_CAPSET in self.capsets

    def note(self, what: str, f: dict) -> None:
        """What one of the kernel's lines says of the device (the kinds in model/fold.py's KERNEL_GPU_KINDS)."""
        if what in ("features", "virgl_3d"):  # (older kernels say "virgl 3d acceleration enabled" for +virgl)
            named = f["features"].split() if what == "features" else ["+virgl" if f["state"] == "enabled" else "-virgl"]
            self.features += [name for name in named if name not in self.features]
        elif what == "capset":
            self.capsets[int(f["id"])] = (int(f["version"]), int(f["size"]))
        elif what == "hostmem":
            self.hostmem_base, self.hostmem_size = int(f["base"], 16), int(f["size"], 16)
        elif what == "response_error":
            key = f"response {f['response']} (command {f['command']})"
            self.errors[key] = self.errors.get(key, 0) + 1
        elif what == "gpu_errors_suppressed":
            self.errors_suppressed += int(f["count"])


VENUS_DEVICE_PREFIX = "Virtio-GPU Venus ("


@dataclass
class VulkanDevice:
    """A Vulkan device as a source's lines name it (vulkaninfo, an application's device line, the loader, a
    test program): its name, what else they say of it (apiVersion, driverID, driverName, driverInfo, deviceType,
    the loader's library), and the runs that used it."""

    source: str
    first_seq: int
    name: str
    properties: dict[str, str] = field(default_factory=dict)
    runs: set[int] = field(default_factory=set)

    @property
    def host_gpu(self) -> str | None:
        """The host's GPU a Venus device names: Virtio-GPU Venus (Intel(R) UHD Graphics 620 (KBL GT2))."""
        if self.name.startswith(VENUS_DEVICE_PREFIX) and self.name.endswith(")"):
            return self.name[len(VENUS_DEVICE_PREFIX):-1]
        return None

    @property
    def venus(self) -> bool:
        return (self.host_gpu is not None or self.properties.get("driverName") == "venus"
                or "VENUS" in self.properties.get("driverID", ""))


def hex_field(text) -> int | None:
    """A field's 0x value, or None when the field is missing or not hex (log lines can hold anything)."""
    if not (isinstance(text, str) and text.startswith("0x")):
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None

