"""Probe benchmark (`make bench`, never in the tests): absolute figures on this machine, lavapipe as driver.

- probe cold start to its first event and to its first Vulkan step (target: first event <= 0.5 s)
- the fence phase, process start to phase end (target <= 1 s)
- status polls per second, the probe's loop against a bare vkGetFenceStatus loop (target >= 100,000/s)
- a target that hangs ignoring SIGINT: classified, and its process group gone, within deadline + 2 s
"""

from __future__ import annotations

import glob
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from venustui.probe.runner import PROBE, Runner, Target
from venustui.sources.stream import pids_with

ROOT = Path(__file__).resolve().parent.parent


def cold_start(driver: str) -> tuple[float, float]:
    env = {**os.environ, "VK_DRIVER_FILES": driver}
    env.pop("VK_ICD_FILENAMES", None)
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "venustui.probe.program", "--phase", "fence"],
                            stdout=subprocess.PIPE, env=env)
    first_event = first_step = None
    for raw in proc.stdout:
        event = json.loads(raw)
        now = time.monotonic() - start
        first_event = first_event if first_event is not None else now
        if event["ev"] == "step":
            first_step = now
            break
    proc.kill()
    proc.wait()
    return first_event, first_step


def main() -> int:
    drivers = sorted(glob.glob("/usr/share/vulkan/icd.d/lvp_icd*.json"))
    if not drivers:
        raise SystemExit("lavapipe is not installed (make bench installs mesa-vulkan-drivers)")
    driver = drivers[0]
    starts = [cold_start(driver) for _ in range(5)]
    event_s = statistics.median(s[0] for s in starts)
    step_s = statistics.median(s[1] for s in starts)
    print(f"probe cold start: first event {event_s:.3f} s, first Vulkan step (vkCreateInstance done) "
          f"{step_s:.3f} s (median of 5; target first event <= 0.5 s)")

    runner = Runner(deadline=10, driver_files=driver)
    runs = [runner.run(PROBE, phase="fence") for _ in range(3)]
    fence_s = statistics.median(r.seconds for r in runs)
    rate = runs[-1].metrics[-1]
    print(f"fence phase: {fence_s:.3f} s process start to phase end (median of 3; target <= 1 s); "
          f"{runs[-1].outcome.text()}")
    print(f"status polling: {rate['polls_per_s']:,} polls/s; bare vkGetFenceStatus loop "
          f"{rate['bare_polls_per_s']:,} polls/s; ratio {rate['ratio']:.2f} (target >= 100,000 polls/s)")

    deadline = 2.0
    marker = f"venustui-bench-{uuid.uuid4().hex}"
    target = Target("hang", (sys.executable, str(ROOT / "tests/data/targets/fence_steps.py"), marker))
    start = time.monotonic()
    record = Runner(deadline=deadline, grace=1.0).run(target)
    while pids_with(marker):
        time.sleep(0.01)
    gone = time.monotonic() - start
    print(f"hung target: {record.outcome.text()}, process group gone {gone:.2f} s after start "
          f"(deadline {deadline:g} s; target <= deadline + 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
