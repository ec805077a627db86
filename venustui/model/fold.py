"""The fold: ``Model`` and how each event (parsed record, source notice, runner event, user action)
changes it.

``Model.apply`` takes events in sequence order and nothing else; feeding the same events (live, or
replayed from a journal) always reaches the same state. This is the hot path (millions of lines):
``fold_record`` routes a record with plain comparisons and calls one handler per format.
"""

from __future__ import annotations

from collections import Counter, deque
from itertools import islice, repeat
from typing import Any

from venustui import events as ev
from venustui.events import Notice, Record, RunEvent
from venustui.model import entities as E
from venustui.model import views
from venustui.model.entities import RECENT, Device, Fence, Notable, Queue, Ring, Run, Step, StuckWait, TargetRun, VirtioGpu
from venustui.model.handle_table import HandleSeen, HandleTable
from venustui.model.vulkan_devices import DEVICE_NAMING_KINDS, VulkanDevices
from venustui.parse import families
from venustui.parse.text import raw_text

# Routing: which formats are guest lines and which host lines, by their family's side in the registry.
GUEST_FORMATS = families.GUEST_FORMATS
HOST_FORMATS = families.HOST_FORMATS
# Roles of the handles the probe reports, by step.
PROBE_ROLES = {"device": "device", "queue": "queue", "fence": "fence", "alloc": "memory"}

NOTABLE_LIMIT = 2000
KERNEL_GPU_KINDS = frozenset({"features", "virgl_3d", "capset", "hostmem", "response_error", "gpu_errors_suppressed",
                              "detected", "initialized"})
FENCE_LIMIT = 5_000  # fences kept; the oldest go first (a flood creates one per frame)


class Model:
    """Everything folded so far: runs, devices, queues, fences, the ring, handles, targets, counts."""

    def __init__(self, families=()) -> None:
        """families: the user's own (config [[rules]]), whose side routes their lines like the built-in ones."""
        self.guest_formats = GUEST_FORMATS | {family.name for family in families if family.side == "guest"}
        self.host_formats = HOST_FORMATS | {family.name for family in families if family.side == "host"}
        self.runs: list[Run] = []
        self.devices: dict[tuple[str, int], Device] = {}
        self.queues: dict[tuple[str, int], Queue] = {}
        self.fences: dict[str, Fence] = {}
        self.ring = Ring()
        self.handles = HandleTable()
        self.fences_evicted = 0
        self.targets: dict[int, TargetRun] = {}
        self.actions: list[tuple[int, str, dict]] = []  # (seq, name, data): what the user did
        self._target_for_source: dict[str, int] = {}
        self.notable: deque[Notable] = deque(maxlen=NOTABLE_LIMIT)
        self._notable_by_seq: dict[int, Notable] = {}
        self.counts: Counter[tuple[str, str]] = Counter()  # parsed records by (format, message)
        self.kinds: dict[tuple[str, str], E.KindLog] = {}  # the records themselves, a few of each kind
        self.numbering = E.LineNumbers()
        self.lines: Counter[str] = Counter()  # every line, per source
        self.cut_lines: Counter[str] = Counter()  # lines longer than the line limit, per source
        self.virtio_gpu: dict[str, VirtioGpu] = {}  # per source: the guest kernel's virtio-gpu device
        self.vulkan_devices = VulkanDevices()  # the Vulkan devices lines name, per source
        self.overflow_bytes: Counter[str] = Counter()  # their bytes beyond the limit (kept, not parsed)
        self.formats: Counter[tuple[str, str]] = Counter()  # every line, per (source, format)
        self.notices: list[Notice] = []
        self.source_state: dict[str, Notice] = {}
        self.last_seq = 0
        self.last_wall = 0.0  # when the newest line arrived: "now" for how long a fence has gone unsignaled
        self._open_run: dict[str, Run] = {}
        self._latest_run: Run | None = None
        self._host_device: dict[str, int] = {}
        self._host_fence_by_source: dict[str, Fence] = {}  # the latest host fence of each source ...
        self._host_fence_by_handle: dict[tuple[str, int], Fence] = {}  # ... and of each handle

    # entry points ---------------------------------------------------------------
    def apply(self, event) -> None:
        """Fold one event: a parsed Record, a source Notice, a RunEvent or a user action."""
        if isinstance(event, Record):
            self.fold_record(event)
        elif isinstance(event, Notice):
            self._notice(event)
        elif isinstance(event, RunEvent):
            self._run_event(event)
        else:
            self.last_seq = max(self.last_seq, event.seq)
            self.actions.append((event.seq, event.name, dict(event.data)))

    def apply_all(self, events) -> None:
        for event in events:
            self.apply(event)

    def _note(self, notable: Notable) -> None:
        kept, by_seq = self.notable, self._notable_by_seq
        if len(kept) == NOTABLE_LIMIT:
            del by_seq[kept[0].seq]
        kept.append(notable)
        by_seq[notable.seq] = notable

    def evidence(self, seq: int | None) -> Notable | None:
        """The kept line with this sequence number, if it is still kept."""
        return self._notable_by_seq.get(seq) if seq is not None else None

    def has_open_run(self, source: str) -> bool:
        return source in self._open_run

    def changes_handle_context(self, rec: Record) -> bool:
        """Whether folding this record may change handle_context for its source (it may start a run
        or name the host device): sightings in lines before it are folded first."""
        fmt = rec.fmt
        if fmt in self.guest_formats:
            return rec.what == "vn_env" or rec.source not in self._open_run or rec.fields.get("num") == 1
        return fmt == "vkr" and "device" in rec.fields

    def count_lines(self, source: str, by_format: dict[str, int], wall: float, seq: int | None = None) -> None:
        """Every line read, tracked or not, counted by source and format; wall is when they arrived, seq the
        first one's sequence number."""
        self.last_wall = max(self.last_wall, wall)
        if seq is not None:
            self.numbering.add(source, seq, self.lines[source])
        for fmt, count in by_format.items():
            self.lines[source] += count
            self.formats[(source, fmt)] += count

    def count_overflow(self, source: str, size: int, wall: float) -> None:
        """Bytes of a line beyond the line limit: counted, never parsed."""
        self.last_wall = max(self.last_wall, wall)
        self.overflow_bytes[source] += size

    # notices ----------------------------------------------------------------------
    def _notice(self, notice: Notice) -> None:
        self.last_seq = max(self.last_seq, notice.seq)
        self.notices.append(notice)
        self.source_state[notice.source] = notice  # the last word on each source (down, restarting, back)
        if notice.kind in (ev.ROTATED, ev.RECREATED, ev.TRUNCATED, ev.EXITED):
            run = self._open_run.pop(notice.source, None)
            if run is not None:
                run.end_seq = notice.seq
                run.end_reason = f"source {notice.kind}"
                if notice.kind == ev.EXITED:
                    run.end_reason = notice.message

    # runner events ----------------------------------------------------------------------
    def _run_event(self, event: RunEvent) -> None:
        self.last_seq = max(self.last_seq, event.seq)
        data = event.data
        if event.kind == "start":
            # The runner names the source its target's output comes as (journals from before it did: "guest").
            source = data.get("source", "guest")
            self.targets[event.run] = TargetRun(event.run, data.get("target", ""), data.get("phase", ""),
                                                data.get("flags", ""), data.get("vn_perf", ""), event.seq,
                                                env=data.get("env", {}), source=source)
            # The target's output starts a new run on the runner's source, linked to this one.
            previous = self._open_run.pop(source, None)
            if previous is not None:
                previous.end_seq, previous.end_reason = event.seq, "a new target run started"
            self._target_for_source[source] = event.run
            return
        target = self.targets.get(event.run)
        if target is None:
            return
        if event.kind == "end":
            target.outcome = data.get("outcome", {})
            target.end_seq = event.seq
            self._target_for_source.pop(target.source, None)
            return
        kind = data.get("ev")
        if kind == "step":
            target.steps.append(data)
            handle = data.get("handle")
            if E.hex_field(handle) is not None:
                self.see_handle(E.hex_field(handle), f"probe#{event.run}", "probe", event.seq, event.wall,
                                role=PROBE_ROLES.get(data.get("step", ""), data.get("step")))
        elif kind == "metric":
            target.metrics.append(data)
        elif kind == "sample":
            target.samples.append(data)

    # records ----------------------------------------------------------------------
    def fold_record(self, rec: Record) -> None:
        """Fold one parsed line (what apply does with a Record, for callers that know it is one)."""
        seq, fmt, what, fields = rec.line.seq, rec.fmt, rec.what, rec.fields
        if seq > self.last_seq:
            self.last_seq = seq
        self.counts[(fmt, what)] += 1
        kind = self.kinds.get((fmt, what))
        if kind is None:
            kind = self.kinds[(fmt, what)] = E.KindLog()
        kind.add(rec)
        run = self._run_for(rec)
        # One handler per format, by plain comparisons: cheaper per line than a dict of handlers.
        if fmt == "vkr":
            self._vkr(rec, run)
        elif fmt == "vkr-server":
            self._server(rec, run)
        elif fmt == "mesa" and what != "mention":
            self._mesa(rec, run)
        elif what in DEVICE_NAMING_KINDS:
            self.vulkan_devices.note(rec, run)
        elif fmt == "step":
            self._step(rec, run)
        elif fmt == "vtest" and what == "call_failed" and "export_blob" in fields["callee"]:
            self._blob_export_failed(rec, run)
        elif fmt == "kernel" and what in KERNEL_GPU_KINDS:  # the guest kernel's virtio-gpu device, one per source
            gpu = self.virtio_gpu.get(rec.source) or self.virtio_gpu.setdefault(rec.source, VirtioGpu(rec.source, seq))
            gpu.note(what, fields)
        if (rec.level in ("warn", "error") or fmt == "step" or what in ("vn_env_field", "venus_command")
                or (fmt == "vkr" and fields["fn"] in ("CreateFence", "WaitForFences"))
                or (fmt == "kernel" and what in KERNEL_GPU_KINDS)):  # the device's lines are findings' evidence
            self._note(Notable(seq, rec.line.source, fmt, what, rec.level, raw_text(rec.line.data)[:500],
                               run.id if run else None, fields))
        if rec.handles:
            self._handles(rec, run)
        if run is not None and fmt in self.guest_formats and what != "mention":
            run.last_seq = seq  # the run's last Venus line (guest text between is not tracked)

    def _run_for(self, rec: Record) -> Run | None:
        """Which run a record belongs to; guest lines may start a new one."""
        if rec.fmt not in self.guest_formats:
            if rec.fmt in self.host_formats:
                return self._latest_run
            return self._open_run.get(rec.source)
        current = self._open_run.get(rec.source)
        if rec.what == "mention":  # a line naming the driver is not the driver running: it starts nothing
            return current
        starts = current is None
        if rec.what == "vn_env":
            starts = True
        elif rec.what == "step" and current is not None and rec.fields["num"] == 1 and current.steps:
            starts = True
        if starts:
            if current is not None:
                current.end_seq = rec.seq
                current.end_reason = "next run started"
            current = Run(len(self.runs) + 1, rec.source, rec.seq, last_seq=rec.seq)
            target = self._target_for_source.get(rec.source)
            if target is not None:
                current.facts["target_run"] = target
                self.targets[target].log_runs.append(current.id)
            self.runs.append(current)
            self._open_run[rec.source] = current
            self._latest_run = current
        return current

    def _step(self, rec: Record, run: Run | None) -> None:
        assert run is not None
        f = rec.fields
        if rec.what == "progress":
            run.progress.append((f["name"], f["status"], rec.seq))
            return
        if rec.what != "step":
            if rec.what == "crash":
                run.facts["crash"] = f.get("message", "")
            return
        step = Step(f["num"], f["role"], f["name"], f.get("result"), f.get("code"), rec.seq,
                    f.get("detail", "") or f.get("value", ""))
        run.steps.append(step)
        handle = f.get("handle")
        role = f["role"]
        if role == "device" and handle is not None:
            self._device("guest", handle, rec.seq, run)
            run.devices.append(handle)
        elif role == "queue" and handle is not None:
            queue = self.queues.setdefault(("guest", handle), Queue(handle, "guest", rec.seq))
            queue.run = run.id
            if handle not in run.queues:
                run.queues.append(handle)
            queue.device = run.devices[-1] if run.devices else None
            if queue.device is not None:
                dev = self.devices[("guest", queue.device)]
                if handle not in dev.queues:
                    dev.queues.append(handle)
        elif role == "fence":
            key = f"run{run.id}.fence{len(run.fences) + 1}"
            fence = Fence(key, "guest", handle, rec.source, rec.seq, run=run.id,
                          device=run.devices[-1] if run.devices else None,
                          create_result=step.result, last_seq=rec.seq, created_wall=rec.line.wall)
            if step.code is not None and step.code < 0:
                fence.state = "failed"
            if run.fence_feedback is not None:
                fence.path = "feedback slot" if run.fence_feedback else "host polling"
                fence.path_evidence = f"perf = 0x{run.perf_mask:x} in run {run.id}'s vn_env"
                fence.slot = "allocated" if run.fence_feedback else "none (no_fence_feedback)"
            self.fences[key] = fence
            run.fences.append(key)
            self._trim_fences()
            if fence.device is not None:
                self.devices[("guest", fence.device)].fences += 1
        elif role in ("submit", "status", "wait"):
            fence = self._run_fence(run)
            if fence is None:
                return
            if role == "submit":
                fence.note_submit(rec.seq, step.result)
                for handle in run.queues:
                    self.queues[("guest", handle)].submits += 1
            elif role == "status":
                fence.note_status(rec.seq, step.result, rec.line.wall)
            else:
                fence.note_wait(rec.seq, step.result, rec.line.wall)

    def _run_fence(self, run: Run) -> Fence | None:
        return self.fences.get(run.fences[-1]) if run.fences else None

    def _mesa(self, rec: Record, run: Run | None) -> None:
        assert run is not None
        f = rec.fields
        what = rec.what
        if what == "vn_env_field":
            if f.get("key") == "debug" and "mask" in f:
                run.debug_mask, run.debug_names = f["mask"], list(f["names"])
            elif f.get("key") == "perf" and "mask" in f:
                run.perf_mask, run.perf_names = f["mask"], list(f["names"])
            else:
                run.facts[f["key"]] = f["value"]
        elif what in ("wire_format", "vk_xml_version", "protocol_version", "renderer_instance_version"):
            run.facts[what] = f["version"]
        elif what == "connected":
            run.facts["connected"] = True
        elif what == "wire_format_mismatch":
            run.facts["wire_format_mismatch"] = (f["guest"], f["host"])
        elif what == "stuck_wait":
            reason, iteration = f["reason"], f.get("iter", 0)  # no number: the line was cut after "with"
            stuck = self.ring.stuck.get(reason)
            if stuck is None:
                stuck = self.ring.stuck[reason] = StuckWait(reason, first_iter=iteration, first_seq=rec.seq)
            stuck.count += 1
            stuck.max_iter = max(stuck.max_iter, iteration)
            stuck.last_seq = rec.seq
            stuck.runs.add(run.id)
            self.ring.samples.append((rec.seq, rec.line.wall, reason, iteration, run.id))
            if reason in ("fence", "client"):
                fence = self._run_fence(run)
                if fence is not None and fence.state in ("created", "submitted"):
                    fence.state = "stuck"
        elif what in ("ring_fatal", "ring_submit_fatal", "abort"):
            self.ring.fatal.append((rec.seq, what, f.get("iter"), run.id))
        elif what == "ring_alive_expired":
            self.ring.alive_expired.append((rec.seq, f.get("iter"), run.id))
        elif what == "lost_connection":
            self.ring.lost_connections.append((rec.seq, f"{f['op']} {f['ret']} {f['errno_name']}".strip(), run.id))
        elif what == "result":
            results = run.facts.setdefault("results", [])
            if len(results) < RECENT * 8:
                results.append((f["fn"], f["result"]))

    def _device(self, side: str, handle: int, seq: int, run: Run | None) -> Device:
        device = self.devices.get((side, handle))
        if device is None:
            device = self.devices[(side, handle)] = Device(handle, side, seq)
        if run is not None:
            device.runs.add(run.id)
        return device

    def _vkr(self, rec: Record, run: Run | None) -> None:
        f = rec.fields
        fn = f["fn"]
        src = rec.source
        handle = E.hex_field(f["device"]) if "device" in f else None
        if handle is not None:
            self._host_device[src] = handle
            self._device("host", handle, rec.seq, run)
        device = self._host_device.get(src)
        if fn in ("GetDeviceQueue", "GetDeviceQueue2") and E.hex_field(f.get("queue")) is not None:
            handle = E.hex_field(f["queue"])
            queue = self.queues.setdefault(("host", handle), Queue(handle, "host", rec.seq))
            queue.device = device
            queue.run = run.id if run else None
            for key, attr in (("queueFamilyIndex", "family"), ("queueIndex", "index")):
                if f.get(key, "").isdigit():
                    setattr(queue, attr, int(f[key]))
            if device is not None and handle not in self.devices[("host", device)].queues:
                self.devices[("host", device)].queues.append(handle)
        elif fn == "CreateFence":
            fence_text = f.get("fence", "")
            handle = E.hex_field(fence_text)
            if handle is not None:
                key = f"host:{fence_text}@{rec.seq}"  # one per creating line: drivers reuse handles
                fence = Fence(key, "host", handle, src, rec.seq, run=run.id if run else None, device=device,
                              create_result=f.get("result"), last_seq=rec.seq, created_wall=rec.line.wall)
                self.fences[key] = fence
                self._host_fence_by_handle[(src, handle)] = self._host_fence_by_source[src] = fence
                self._trim_fences()
                if device is not None:
                    self.devices[("host", device)].fences += 1
        elif fn in ("QueueSubmit", "QueueSubmit2"):
            fence = self._host_fence(f, src)
            if fence is not None:
                fence.note_submit(rec.seq, f.get("result"))
            queue = self.queues.get(("host", E.hex_field(f.get("queue"))))
            if queue is not None:
                queue.submits += 1
        elif fn == "GetFenceStatus":
            fence = self._host_fence(f, src)
            if fence is not None:
                fence.host_status_calls += 1
                fence.note_status(rec.seq, f.get("result"), rec.line.wall)
                if fence.signaled_seq == rec.seq:  # the poll that saw it signal is evidence; the others not
                    self._note(Notable(rec.seq, rec.source, rec.fmt, rec.what, rec.level, raw_text(rec.line.data)[:500],
                                       run.id if run else None, f))
                fence.path = "host polling"
                fence.path_evidence = "[VKR] vkGetFenceStatus calls reach the host (no feedback slot)"
        elif fn == "WaitForFences" and "result" in f:
            fence = self._host_fence(f, src)
            if fence is not None:
                fence.note_wait(rec.seq, f.get("result"), rec.line.wall)

    def _host_fence(self, fields: dict, source: str) -> Fence | None:
        """The fence a host print is about: by handle, else the latest one from that source."""
        text = fields.get("fence", "")
        if text.startswith("0x"):
            return self._host_fence_by_handle.get((source, E.hex_field(text)))
        return self._host_fence_by_source.get(source)

    def _server(self, rec: Record, run: Run | None) -> None:
        f = rec.fields
        if rec.what == "ring_seqno_unreachable":
            self.ring.seqno_count += 1
            self.ring.seqno_pairs.append((rec.seq, f["fn"], f["seqno"], f["wait"]))
        elif rec.what in ("decoder_fatal", "ring_dispatch_failed", "dispatch_failed"):  # the context is fatal
            self.ring.fatal.append((rec.seq, rec.what, None, run.id if run else None))

    def _blob_export_failed(self, rec: Record, run: Run | None) -> None:
        """Host-visible memory (feedback slots, mapped buffers) could not be exported to the guest."""
        if run is None:
            return
        run.facts.setdefault("blob_export_failures", []).append(rec.seq)
        if run.fence_feedback and not run.fences and run.last_step and run.last_step.role == "queue":
            # The next step would create a fence, whose feedback slot is such memory.
            run.facts["slot_allocation"] = "failed: blob export refused by the host (inferred)"

    def _handles(self, rec: Record, run: Run | None) -> None:
        line = rec.line
        side, run, device = self.handle_context(line.source, rec.fmt, run)
        seq = line.seq
        self.handles.see([(value, seq, seq, 1, role) for value, role in zip(rec.handles, rec.roles or repeat(None))],
                         line.source, side, run.id if run is not None else None, device, line.wall)

    def handle_context(self, source: str, fmt: str, run: Run | None = None) -> tuple[str, Run | None, int | None]:
        """(side, run, device) a handle sighting on this source and format is attributed to."""
        if fmt in self.guest_formats:
            run = run or self._open_run.get(source)
            return "guest", run, (run.devices[-1] if run and run.devices else None)
        if fmt in self.host_formats:
            return "host", run or self._latest_run, self._host_device.get(source)
        return "", run or self._open_run.get(source), None

    def see_handle(self, value: int, source: str, fmt: str, seq: int, wall: float,
                   role: str | None = None, run: Run | None = None) -> None:
        """One sighting of a handle value in a parsed line."""
        side, run, device = self.handle_context(source, fmt, run)
        self.see_handles(((value, seq, seq, 1, role),), source, side, run, device, wall)

    def see_handles(self, sightings, source: str, side: str, run: Run | None, device: int | None,
                    wall: float) -> None:
        """Sightings in one context, each (value, first seq, last seq, count, role or None): bulk lines
        report theirs grouped per value, a parsed line each of its handles."""
        self.handles.see(sightings, source, side, run.id if run is not None else None, device, wall)

    def _trim_fences(self) -> None:
        """Forget the oldest tenth of the fences once there are FENCE_LIMIT; counted in fences_evicted."""
        if len(self.fences) < FENCE_LIMIT:
            return
        for key in list(islice(self.fences, FENCE_LIMIT // 10)):
            fence = self.fences.pop(key)
            self.fences_evicted += 1
            if fence.side == "host":
                for table, index in ((self._host_fence_by_source, fence.source),
                                     (self._host_fence_by_handle, (fence.source, fence.handle))):
                    if table.get(index) is fence:  # older ones of a handle or source are gone already
                        del table[index]

    # derived views (views.py) ----------------------------------------------------------
    def fence_ties(self) -> dict[str, tuple[str, bool]]:
        """guest fence key -> (host fence key, inferred); see views.fence_ties."""
        return views.fence_ties(self)

    @property
    def handles_evicted(self) -> int:
        return self.handles.evicted

    def repeated_handles(self) -> list[HandleSeen]:
        """Values seen in several runs or on several devices (the seed's clue)."""
        return views.repeated_handles(self)

    def run(self, run_id: int) -> Run | None:
        return self.runs[run_id - 1] if 0 < run_id <= len(self.runs) else None

    def snapshot(self) -> dict[str, Any]:
        """Everything the model holds, as plain data (for comparing live and replayed states)."""
        return views.snapshot(self)

