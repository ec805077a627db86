"""QEMU lab benchmark (`make bench`, never in the tests): boot, first run, reruns, under TCG on this machine.

Targets (issue 21, absolute on this 2-core machine): boot to the first guest line <= 8 s; boot + first run
<= 15 s; a rerun in a booted guest <= 2 s.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid

from venustui import events as ev
from venustui.flags import FlagSet
from venustui.lab import Lab
from venustui.probe.runner import PROBE, Runner
from venustui.session import Session


def main() -> int:
    lab = Lab(f"bench-{uuid.uuid4().hex[:6]}", vmm="qemu")
    if not lab.installed():
        print("the lab is not installed: venustui lab install (make demo does)")
        return 1
    session = Session([], follow=False)
    started = time.monotonic()
    first_line = None
    try:
        lab.start(session.hub)
        while first_line is None and time.monotonic() - started < 60:
            for event, _ in session.pump(0.05):
                if isinstance(event, ev.Chunk) and event.source == "console" and first_line is None:
                    first_line = event.mono - started  # when the line arrived
        runner = Runner(session.hub, deadline=8, **lab.runner_options())
        first = runner.run(PROBE, FlagSet(), "fence")
        boot_and_run = time.monotonic() - started
        reruns = []
        for flags in (FlagSet(), FlagSet(perf=("no_fence_feedback",)), FlagSet()):
            t = time.monotonic()
            runner.run(PROBE, flags, "fence")
            reruns.append(time.monotonic() - t)
    finally:
        lab.stop()
    print(f"QEMU lab on {lab.pair.id}: first run {first.outcome.text()}")
    print(f"boot to the first guest line: {first_line:.1f} s (target <= 8 s)")
    print(f"boot + first run: {boot_and_run:.1f} s (target <= 15 s)")
    print(f"a rerun in the booted guest: {statistics.median(reruns):.2f} s median of {len(reruns)} (target <= 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
