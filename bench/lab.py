"""Lab benchmark (`make bench`, never in the tests): install from nothing, server start, the whole story.

Targets here: install from nothing <= 3 minutes; `lab up` to server ready <= 2 s when installed;
the story (both phases, default and flagged, triage) <= 30 s with a 5 s deadline.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from venustui.flags import FlagSet
from venustui.lab import Lab
from venustui.probe.runner import PROBE, Runner
from venustui.session import Session
from venustui.triage import triage


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="venustui-bench-lab-"))
    try:
        lab = Lab("bench", root=root)
        start = time.monotonic()
        manifest = lab.install(private=True, progress=lambda line: None)
        install_s = time.monotonic() - start
        versions = ", ".join(f"{k} {v['version']}" for k, v in manifest["packages"].items())
        print(f"lab install from nothing (private prefix): {install_s:.1f} s (target <= 180 s); {versions}")
        ups = []
        for _ in range(5):
            ups.append(lab.start())
            lab.stop()
        print(f"lab up to server ready: {statistics.median(ups):.3f} s median of 5 (target <= 2 s)")
        session = Session([], follow=False)
        start = time.monotonic()
        lab.start(session.hub)
        runner = Runner(session.hub, deadline=5, base_env=lab.guest_env(), driver_files=manifest["virtio_icd"],
                        health=lab.health)
        result = triage(runner, PROBE, phase="fence")
        maps = [runner.run(PROBE, flags, "map") for flags in (FlagSet(), FlagSet(perf=result.smallest or ()))]
        lab.stop()
        story_s = time.monotonic() - start
        print(f"the story: {result.finding()}; map phase {', '.join(m.outcome.text() for m in maps)}; "
              f"{len(result.runs) + len(maps)} runs in {story_s:.1f} s with a 5 s deadline (target <= 30 s)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
