"""Starting a target (the probe, or a user's program), watching it, and saying how each phase ended.

A target runs in its own process group with the environment its flags ask for. Its
stdout and stderr are delivered as the ``guest`` source (so Mesa's lines reach the
model), and for the probe its JSON events become RunEvents. A hang is no progress
(no probe event, or for other targets no output line) for ``deadline`` seconds: a
spinning Venus guest burns a core and ignores SIGINT, so the group gets SIGTERM and
then SIGKILL.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from venustui import events as ev
from venustui.flags import EnvDelta, FlagSet, guest_env
from venustui.parse import Parser
from venustui.parse.venus_flags import Version
from venustui.sources.split import ChunkSplitter
from venustui.sources.stream import kill_group

PASSED, FAILED, HUNG, CRASHED, NOT_STARTED = "passed", "failed", "hung", "crashed", "could not start"
# The seed's steps, in order; a program target that stops printing hangs in the next one.
FENCE_STEPS = ("instance", "physdev", "device", "queue", "fence", "submit", "status", "wait")
VULKAN_CALLS = {
    "instance": "vkCreateInstance", "physdev": "vkEnumeratePhysicalDevices", "device": "vkCreateDevice",
    "queue": "vkGetDeviceQueue2", "fence": "vkCreateFence", "submit": "vkQueueSubmit",
    "status": "vkGetFenceStatus", "wait": "vkWaitForFences", "buffer": "vkCreateBuffer",
    "alloc": "vkAllocateMemory", "bind": "vkBindBufferMemory", "map": "vkMapMemory",
    "command_pool": "vkCreateCommandPool", "command_buffer": "vkAllocateCommandBuffers",
    "record": "recording the fill", "poll": "polling the fence and the slot",
}


@dataclass(frozen=True)
class Target:
    """What to run. ``argv`` may contain {VN_PERF} and {VN_DEBUG}: the only substitutions."""

    name: str
    argv: tuple[str, ...]
    probe: bool = False
    phases: tuple[str, ...] = ("fence",)

    def command(self, flags: FlagSet, phase: str, deadline: float) -> list[str]:
        if self.probe:
            # The probe gives up waiting a little before the runner would call it hung.
            inner = max(0.5, deadline * 0.8)
            return [*self.argv, "--phase", phase, "--deadline", f"{inner:g}"]
        values = {"VN_PERF": flags.vn_perf, "VN_DEBUG": flags.vn_debug}
        return [_substitute(arg, values) for arg in self.argv]


def _substitute(arg: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        arg = arg.replace("{" + key + "}", value)
    return arg


PROBE = Target("probe", (sys.executable, "-m", "venustui.probe.program"), probe=True, phases=("fence", "map"))


@dataclass
class PhaseOutcome:
    phase: str
    status: str
    step: str = ""
    result: str = ""
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def text(self) -> str:
        if self.status == FAILED:
            return f"failed at {self.step} ({self.result})" if self.result else f"failed at {self.step}"
        if self.status == HUNG:
            return f"hung at {self.step}" if self.step else "hung"
        if self.status == CRASHED:
            return f"crashed ({self.detail})" + (f" at {self.step}" if self.step else "")
        if self.status == NOT_STARTED:
            return f"could not start: {self.detail}"
        return PASSED

    def as_dict(self) -> dict:
        return {"phase": self.phase, "status": self.status, "step": self.step, "result": self.result,
                "detail": self.detail, "text": self.text()}


@dataclass
class RunRecord:
    run: int
    target: str
    phase: str
    flags: FlagSet
    argv: list[str]
    env: EnvDelta
    outcome: PhaseOutcome
    returncode: int | None = None
    ended: str = ""  # exited | terminated | killed | not started
    seconds: float = 0.0
    steps: list[dict] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)
    stderr_tail: list[str] = field(default_factory=list)
    perf_mask: int | None = None  # from the guest's own vn_env line, when it printed one

    def as_dict(self) -> dict:
        return {"run": self.run, "target": self.target, "phase": self.phase, "flags": self.flags.describe(),
                "vn_perf": self.flags.vn_perf, "argv": self.argv, "env": self.env.as_dict(),
                "outcome": self.outcome.as_dict(), "returncode": self.returncode, "ended": self.ended,
                "seconds": round(self.seconds, 3), "steps": self.steps, "metrics": self.metrics,
                "perf_mask": self.perf_mask}


Launch = Callable[[list[str], dict[str, str]], list[str]]  # (argv, the program's environment) -> what to start
DEFAULTS = FlagSet()  # no flags set (a FlagSet never changes: toggling makes a new one)


class Runner:
    """Runs targets one at a time; each run's events go to ``sink`` (a Hub) when one is given."""

    def __init__(self, sink=None, *, deadline: float = 5.0, grace: float = 1.0,
                 base_env: Mapping[str, str] | None = None, driver_files: str | None = None,
                 source: str = "guest", health=None, launch: Launch | None = None,
                 probe_argv: Sequence[str] | None = None, mesa: Version | None = None):
        self.sink = sink
        self.deadline = deadline
        self.grace = grace
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.driver_files = driver_files
        self.source = source
        self.health = health  # () -> None while the host side lives, else why it died
        self.launch = launch  # how a lab starts a guest program (its pair's loader, or its QEMU guest's agent)
        self.probe_argv = list(probe_argv) if probe_argv else None  # the lab's own probe (the C one in a guest)
        self.mesa = mesa  # the guest driver's Mesa version, when known
        self.next_run = 1
        self.current: subprocess.Popen | None = None
        self.stopped = False

    def _send(self, events: list) -> None:
        if self.sink is not None and events:
            self.sink.put(events)

    def run(self, target: Target, flags: FlagSet = DEFAULTS, phase: str | None = None,
            *, watch: float | None = None, rounds: int | None = None, on_event=None) -> RunRecord:
        phase = phase or target.phases[0]
        self.stopped = False
        run_id = self.next_run
        self.next_run += 1
        delta = guest_env(flags, self.base_env, driver_files=self.driver_files, mesa=self.mesa)
        argv = target.command(flags, phase, self.deadline)
        if target.probe and self.probe_argv:
            argv = [*self.probe_argv, *argv[len(target.argv):]]
        if watch is not None and target.probe:
            argv += ["--watch", f"{watch:g}"] + (["--rounds", str(rounds)] if rounds else [])
        if self.launch is not None:
            argv = self.launch(argv, delta.apply(self.base_env))
        record = RunRecord(run_id, target.name, phase, flags, argv, delta, PhaseOutcome(phase, NOT_STARTED))
        self._send([ev.RunEvent(ev.RUN_START, run_id, {
            "target": target.name, "phase": phase, "flags": flags.describe(), "vn_perf": flags.vn_perf,
            "vn_debug": flags.vn_debug, "argv": argv, "env": delta.as_dict(), "source": self.source},
            time.time(), time.monotonic())])
        start = time.monotonic()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=delta.apply(self.base_env), start_new_session=True)
        except OSError as exc:
            record.outcome.detail = f"{argv[0]}: {exc.strerror or exc}"
            record.ended = "not started"
            return self._finish(record)
        self.current = proc
        try:
            # A watch streams a sample every `watch` seconds: one missing for the deadline is a hang too.
            live = watch is not None and watch >= self.deadline
            self._watch(proc, target, record, live, on_event)
        finally:
            self.current = None
        record.seconds = time.monotonic() - start
        return self._finish(record)

    def stop(self) -> None:
        """End the running target now (its whole group)."""
        if self.current is not None:
            self.stopped = True  # its signal is ours, not a crash
            kill_group(self.current, self.grace)

    def _finish(self, record: RunRecord) -> RunRecord:
        self._send([ev.RunEvent(ev.RUN_END, record.run, {
            "outcome": record.outcome.as_dict(), "returncode": record.returncode, "ended": record.ended,
            "seconds": round(record.seconds, 3)}, time.time(), time.monotonic())])
        return record

    # watching ------------------------------------------------------------------------
    def _watch(self, proc: subprocess.Popen, target: Target, record: RunRecord, live: bool, on_event) -> None:
        splitters = {ev.STDOUT: ChunkSplitter(self.source, ev.STDOUT), ev.STDERR: ChunkSplitter(self.source, ev.STDERR)}
        pending = {ev.STDOUT: b"", ev.STDERR: b""}
        fds = {proc.stdout.fileno(): ev.STDOUT, proc.stderr.fileno(): ev.STDERR}
        parser = Parser()
        state = {"last_begin": "", "phase_event": None, "error": "", "steps": [], "failed_step": None}
        last_progress = time.monotonic()
        exited_at = None
        hung = False
        state["lost"] = ""
        while fds:
            ready, _, _ = select.select(list(fds), [], [], 0.1)
            for fd in ready:
                stream = fds[fd]
                data = os.read(fd, 1 << 16)
                if not data:
                    del fds[fd]
                    self._send(splitters[stream].flush())
                    continue
                if not (target.probe and stream == ev.STDOUT):  # the probe's stdout is its protocol
                    self._send(splitters[stream].feed(data))
                lines = (pending[stream] + data).split(b"\n")
                pending[stream] = lines.pop()
                for raw in lines:
                    if self._line(raw, stream, target, record, state, parser, on_event):
                        last_progress = time.monotonic()
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > 0.5:
                break  # the target is gone; whatever still holds its pipes is a leftover child
            if self.health is not None and exited_at is None and (lost := self.health()):
                state["lost"] = lost  # the guest cannot progress without its host: not a hang
                break
            if not live and exited_at is None and now - last_progress > self.deadline:
                hung = True
                break
        if hung or state["lost"]:
            record.ended = kill_group(proc, self.grace)
            self._send(splitters[ev.STDOUT].flush() + splitters[ev.STDERR].flush())
        else:
            proc.wait()
            kill_group(proc, grace=0)  # children that outlived their parent go with it
            record.ended = "exited"
        record.returncode = proc.returncode
        for stream, rest in pending.items():
            if rest:
                self._line(rest, stream, target, record, state, parser, on_event)
        record.outcome = self._classify(target, record, state, hung)

    def _line(self, raw: bytes, stream: str, target: Target, record: RunRecord, state: dict, parser: Parser,
              on_event) -> bool:
        """Take one output line; True if it counts as progress."""
        if target.probe and stream == ev.STDOUT:
            try:
                event = json.loads(raw)
            except ValueError:
                return False  # not the probe's JSON: nothing to learn, and no progress
            if not isinstance(event, dict):
                return False
            self._send([ev.RunEvent(ev.RUN_PROBE, record.run, event, time.time(), time.monotonic())])
            kind = event.get("ev")
            if kind == "begin":
                state["last_begin"] = event.get("step", "")
            elif kind == "step":
                record.steps.append(event)
            elif kind == "metric":
                record.metrics.append(event)
            elif kind == "phase":
                state["phase_event"] = event
            elif kind == "error":
                state["error"] = event.get("message", "")
            if on_event is not None:
                on_event(event)
            return True
        text = raw.decode("utf-8", "replace")
        if stream == ev.STDERR:
            record.stderr_tail = (record.stderr_tail + [text])[-20:]
        line = ev.Line(self.source, stream, 0, 0, raw, True, time.time(), time.monotonic())
        for rec in parser.parse(line):
            if rec.what == "vn_env_field" and rec.fields.get("key") == "perf" and "mask" in rec.fields:
                record.perf_mask = rec.fields["mask"]
            if rec.fmt == "step" and rec.what == "step" and not target.probe:
                f = rec.fields
                step = {"step": f["role"], "num": f["num"], "result": f.get("result")}
                record.steps.append(step)
                code = f.get("code")
                if state["failed_step"] is None and (code is not None and code < 0 or f.get("result") == "VK_TIMEOUT"):
                    state["failed_step"] = step
        return not target.probe

    def _classify(self, target: Target, record: RunRecord, state: dict, hung: bool) -> PhaseOutcome:
        phase = record.phase
        code = record.returncode
        if state["lost"]:
            step = state["last_begin"] if target.probe else ""
            return PhaseOutcome(phase, CRASHED, step, detail=f"lost the host: {state['lost']}")
        if target.probe:
            done = state["phase_event"]
            if done is not None and not hung:
                if done.get("outcome") == PASSED:
                    code = record.returncode
                    if code is not None and code < 0 and not self.stopped:  # passed, then died in the watch
                        return PhaseOutcome(phase, CRASHED, state["last_begin"] or "watch",
                                            detail=f"{_exit_text(code, record.stderr_tail)} in the watch after the "
                                            "phase passed")
                    return PhaseOutcome(phase, PASSED)
                return PhaseOutcome(phase, FAILED, done.get("step", ""), done.get("result", ""))
            if state["error"]:
                return PhaseOutcome(phase, NOT_STARTED, detail=state["error"])
            step = state["last_begin"]
            if hung:
                return PhaseOutcome(phase, HUNG, step, detail=f"no probe event for {self.deadline:g} s")
            return PhaseOutcome(phase, CRASHED, step, detail=_exit_text(code, record.stderr_tail))
        failed = state["failed_step"]
        if failed is not None:
            return PhaseOutcome(phase, FAILED, failed["step"], failed["result"] or "")
        seen = [s["step"] for s in record.steps]
        next_step = next((s for s in FENCE_STEPS if s not in seen), "")
        if hung:
            return PhaseOutcome(phase, HUNG, next_step, detail=f"no output for {self.deadline:g} s")
        if code == 0 and all(s in seen for s in FENCE_STEPS):
            return PhaseOutcome(phase, PASSED)
        if code not in (0, None):
            return PhaseOutcome(phase, CRASHED, next_step, detail=_exit_text(code, record.stderr_tail))
        return PhaseOutcome(phase, FAILED, next_step or "end", "", detail="exited before finishing its steps")


def _exit_text(code: int | None, stderr_tail: Sequence[str]) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    last = next((line for line in reversed(stderr_tail) if line.strip()), "")
    return f"exit status {code}" + (f": {last[:200]}" if last else "")


def step_call(step: str) -> str:
    return VULKAN_CALLS.get(step, step)
