"""Fault scenarios benchmark (`make bench`, never in the tests): each scenario's boot and runs, and the whole set.

Targets (issue 22, absolute on this 2-core machine): a scenario (boot + its runs) <= 15 s under TCG; the whole
set <= 2 minutes. Each line also names the top finding the scenario ended in.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

from venustui.diagnose import diagnose
from venustui.lab import Lab
from venustui.lab_scenarios import SCENARIOS, play
from venustui.probe.runner import Runner
from venustui.session import Session


def main() -> int:
    base = Lab(f"bench-{uuid.uuid4().hex[:6]}")
    if not base.installed():
        print("the lab is not installed: venustui lab install (make demo does)")
        return 1
    times = []
    for chosen in SCENARIOS:
        lab = chosen.lab(Lab(base.name, root=base.root, runtime=Path(f"/tmp/venustui-bench-{uuid.uuid4().hex[:6]}")))
        session = Session([], follow=False)
        started = time.monotonic()
        try:
            lab.start(session.hub, vkr_debug=chosen.vkr_debug)
            session.act("lab", **lab.identity())
            play(chosen, lab, Runner(session.hub, deadline=4, grace=0.5, **lab.runner_options()))
        finally:
            lab.stop()
        times.append(time.monotonic() - started)
        for _ in range(5):
            session.pump(0.1)
        found = diagnose(session.model)
        print(f"  {chosen.name:<22} {times[-1]:5.1f} s  top finding: {found[0].rule if found else '(none)'}")
    worst = max(times)
    print(f"scenarios: worst {worst:.1f} s (target <= 15 s), the whole set {sum(times):.1f} s (target <= 120 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
