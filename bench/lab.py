"""Lab benchmark (`make bench`, never in the tests): pairs from nothing and from cached .debs, server start,
the story per pair.

Targets (issue 20, absolute on this 2-core machine): `lab install` of one more pair <= 60 s from cached .debs;
`lab up` <= 1 s; the story per pair <= 20 s (deadline 4 s). Install from nothing is printed, with no target.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from venustui.config import Config
from venustui.lab import Lab
from venustui.lab_install import DEFAULT_PAIR, Pair
from venustui.lab_story import tell_story


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="venustui-bench-lab-"))
    try:
        lab = Lab("bench", root=root)
        pairs = [Pair(*DEFAULT_PAIR), lab.newest_pair()]
        start = time.monotonic()
        lab.install(pairs, progress=lambda line: None)
        print(f"lab install of {len(pairs)} pairs from nothing: {time.monotonic() - start:.1f} s "
              f"({', '.join(p.id for p in pairs)}; downloads included)")
        cached = []
        for pair in pairs:
            lab.remove([pair])
            start = time.monotonic()
            lab.install([pair], progress=lambda line: None)
            cached.append(time.monotonic() - start)
        print(f"lab install of one more pair from cached .debs: {max(cached):.1f} s worst of {len(pairs)} "
              "(target <= 60 s)")
        ups, stories = [], []
        for pair in pairs:
            paired = Lab("bench", root=root, pair=pair)
            for _ in range(5):
                ups.append(paired.start())
                paired.stop()
            start = time.monotonic()
            story = tell_story(paired, Config(), deadline=4)
            stories.append(time.monotonic() - start)
            print(f"  {pair.id}: {story.triage.finding()} ({len(story.triage.runs)} triage runs + map runs in "
                  f"{stories[-1]:.1f} s)")
        print(f"lab up to server ready: {statistics.median(ups):.3f} s median of {len(ups)} (target <= 1 s)")
        print(f"the story per pair: {max(stories):.1f} s worst of {len(pairs)} with a 4 s deadline (target <= 20 s)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
