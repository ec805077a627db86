"""Inspection benchmark (`make bench`, never in the tests): a ~15 MB driver, against readelf and strings.

Target: inspecting a 15 MB driver <= 1 s, printed beside `readelf -n -V` + `strings | grep` in the same run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from venustui.elf import inspect
from venustui.lab import Lab


def main() -> int:
    lab = Lab()
    if not lab.installed():
        lab.install(progress=lambda line: None)
    lib = Path(lab.manifest["host_icd"]).parent.parent / "prefix" / "usr" / "lib" / "x86_64-linux-gnu"
    candidates = sorted(lib.glob("libvulkan_*.so"), key=lambda p: abs(p.stat().st_size - 15_000_000))
    if not candidates:  # a system install: the packaged drivers
        candidates = sorted(Path("/usr/lib/x86_64-linux-gnu").glob("libvulkan_*.so"),
                            key=lambda p: abs(p.stat().st_size - 15_000_000))
    driver = candidates[0]
    ours, theirs = [], []
    for _ in range(5):
        start = time.perf_counter()
        facts = inspect(driver)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run(["readelf", "-n", "-V", str(driver)], capture_output=True, check=True)
        strings = subprocess.Popen(["strings", str(driver)], stdout=subprocess.PIPE)
        subprocess.run(["grep", "-c", "-e", "no_fence_feedback", "-e", "Mesa "], stdin=strings.stdout,
                       capture_output=True)
        strings.wait()
        theirs.append(time.perf_counter() - start)
    print(f"inspect {driver.name} ({driver.stat().st_size / 1e6:.1f} MB, Mesa {facts.mesa_version or '?'}, "
          f"{sum(len(v) for v in facts.flags.values())} flag names): {statistics.median(ours):.3f} s "
          f"(target <= 1 s); readelf -n -V + strings | grep: {statistics.median(theirs):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
