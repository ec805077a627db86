"""Fault scenarios: each failure class of the field, made real in the lab, with the runs that show it.

A scenario is a configuration of the lab (VMM, pair, QEMU's virtio-gpu knobs, VKR_DEBUG) and, for the render
server faults, a signal sent to the render server while a run waits on it. ``play`` runs a scenario's runs
against a started lab. Findings never see a scenario's name: they rest on what the logs and runs show, as
they would for a user (a test strips the name from a recorded journal and gets the same findings).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field

from venustui.errors import UserError
from venustui.flags import FlagSet
from venustui.lab import Lab
from venustui.lab_qemu import Machine
from venustui.probe.runner import PROBE, Runner, RunRecord

FAULT_DELAY = 1.0  # seconds into the waiting run before the render server is hit
FOLLOW_UP_DEADLINE = 2.0
ALIVE_SECONDS = 3.5  # Mesa checks the ring's ALIVE at its first wait warning, ~3.5 s into a wait


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    vmm: str = "qemu"
    machine: Machine = field(default_factory=Machine)
    vkr_debug: tuple[str, ...] = ()
    newest_mesa: bool = False  # the newest pair installed instead of the lab's
    fault: int | None = None  # a signal for the render server, mid-run

    def lab(self, base: Lab) -> Lab:
        """The lab this scenario runs on, from the one asked for (its name, root, runtime and pair)."""
        pair = base.pair
        if self.newest_mesa:
            newer = [p for p in base.pairs() if tuple(int(x) for x in p.mesa.split(".")) >= (26, 2)]
            if not newer:
                raise UserError(f"scenario {self.name} needs a pair with Mesa 26.2 or newer (venustui lab install "
                                "--mesa 26.2 --virglrenderer 1.3)")
            pair = max(newer, key=lambda p: tuple(int(x) for x in p.mesa.split(".")))
        return Lab(base.name, root=base.root, runtime=base.runtime, pair=pair, vmm=self.vmm, machine=self.machine)


SCENARIOS = (
    Scenario("default", "everything passes, the fence feedback path included (the control case)"),
    Scenario("hostmem-small", "hostmem=64K: the ring's shared memory cannot be mapped, vkCreateInstance fails with "
             "VK_ERROR_OUT_OF_HOST_MEMORY (krunkit users' symptom on macOS)", machine=Machine(hostmem="64K")),
    Scenario("no-venus", "venus=false: the guest kernel sees no Venus capset; the host does not serve Venus",
             machine=Machine(venus=False)),
    Scenario("validate", "the validation layer in the render server (VKR_DEBUG=validate): host lines name the "
             "layer's wrapped handles", vkr_debug=("validate",)),
    Scenario("render-server-stall", "the render server stopped (SIGSTOP) while a run waits on it",
             fault=signal.SIGSTOP),
    Scenario("render-server-killed", "the render server killed (SIGKILL) while a run waits on it",
             fault=signal.SIGKILL),
    Scenario("vtest-export", "Venus over vtest: the host cannot export host-visible memory (-22); fence feedback "
             "hangs, no_fence_feedback works", vmm="vtest"),
    Scenario("mesa-26.2", "the newest Mesa (26.2 or later): no fence feedback at all; fences pass with the "
             "defaults and f explains why", newest_mesa=True),
)


def scenario(name: str) -> Scenario:
    for known in SCENARIOS:
        if known.name == name:
            return known
    raise UserError(f"no lab scenario {name!r} (venustui lab scenarios lists them: "
                    f"{', '.join(s.name for s in SCENARIOS)})")


def render_server_pids(lab: Lab) -> list[int]:
    """The render server processes of this lab's VMM: in its session, named so (Linux /proc)."""
    if lab.server is None:
        return []
    session = os.getsid(lab.server.pid)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) == session and b"virgl_render_server" in open(f"/proc/{entry}/cmdline", "rb").read():
                found.append(int(entry))
        except OSError:
            continue
    return found


def hit_render_server(lab: Lab, signum: int) -> list[int]:
    """Send signum to the render server's process group(s); the pids hit."""
    pids = render_server_pids(lab)
    for group in {os.getpgid(pid) for pid in pids if _alive(pid)}:
        try:
            os.killpg(group, signum)
        except ProcessLookupError:
            pass  # it ended on its own between the look and the signal: nothing left to hit
    return pids


def _alive(pid: int) -> bool:
    try:
        os.getpgid(pid)
        return True
    except ProcessLookupError:
        return False


def play(chosen: Scenario, lab: Lab, runner: Runner, on_run=None) -> list[RunRecord]:
    """The scenario's runs against its started lab: the fence and map phases; for a fault, a run that waits on
    the render server through the ring (no_fence_feedback: each status poll is a host call) while it is hit,
    then the run a user would try next."""
    records = []

    def run(flags: FlagSet, phase: str, **options) -> None:
        record = runner.run(PROBE, flags, phase, **options)
        records.append(record)
        if on_run is not None:
            on_run(record)

    if chosen.fault is None:
        run(FlagSet(), "fence")
        if not records[-1].outcome.passed and records[-1].outcome.step not in ("instance", "physdev", "device"):
            run(FlagSet(perf=("no_fence_feedback",)), "fence")  # the A/B a user would try next
        run(FlagSet(), "map")
        return records
    timer = threading.Timer(FAULT_DELAY, hit_render_server, (lab, chosen.fault))
    timer.daemon = True
    saved, runner.deadline = runner.deadline, max(runner.deadline, ALIVE_SECONDS + 4)
    timer.start()
    try:  # long enough for the guest to see ALIVE expire and say so before the runner calls it a hang
        run(FlagSet(perf=("no_fence_feedback",)), "fence", watch=0.5, rounds=40)
    finally:
        timer.cancel()
        runner.deadline = saved
    time.sleep(0.5)
    saved, runner.deadline = runner.deadline, min(runner.deadline, FOLLOW_UP_DEADLINE)
    try:  # a stopped server hangs vkCreateInstance, a gone one makes the host refuse it: either shows at once
        run(FlagSet(), "fence")
    finally:
        runner.deadline = saved
    return records
