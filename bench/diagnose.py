"""Diagnose benchmark (`make bench`, never in the tests).

1. `venustui diagnose` on a ~200-line paste (a real thread's log, tests/data/real-threads/01): process
   time (user + system, median of 5) beyond a bare interpreter's start (target <= 0.3 s).
2. The findings on a 2,000,000-line log (genlog --mix=real): the time `diagnose(model)` takes against
   the fold that built the model (target <= 10% of the fold).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import genlog  # noqa: E402

from venustui.diagnose import diagnose  # noqa: E402
from venustui.session import fold_files  # noqa: E402


def process_time(argv: list[str]) -> float:
    """User + system seconds of one child process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, capture_output=True, cwd=ROOT, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    paste = ROOT / "tests/data/real-threads/01-qemu-tcg-vkmark-kms-vn_ring_submit-abort.log"
    lines = paste.read_text(errors="replace").count("\n")
    bare = statistics.median(process_time([sys.executable, "-c", "pass"]) for _ in range(5))
    runs = statistics.median(process_time([sys.executable, "-m", "venustui", "diagnose", str(paste)]) for _ in range(5))
    print(f"diagnose on a {lines}-line paste: {runs:.3f} s process time, {runs - bare:.3f} s beyond the "
          f"interpreter's start ({bare:.3f} s) (target <= 0.3 s)")

    folder = Path(tempfile.mkdtemp(prefix="venustui-bench-diagnose-"))
    log = folder / "real.log"
    with open(log, "w", encoding="utf-8") as f:
        for line in genlog.lines(2_000_000, seed=9, mix="real"):
            f.write(line + "\n")
    start = time.process_time()
    model = fold_files([str(log)])
    fold = time.process_time() - start
    start = time.process_time()
    findings = diagnose(model)
    findings_time = time.process_time() - start
    os.unlink(log)
    print(f"2,000,000 lines (genlog --mix=real): fold {fold:.2f} s, findings {findings_time:.3f} s "
          f"({len(findings)} findings)")
    print(f"findings cost {100 * findings_time / fold:.1f}% of the fold (target <= 10%); "
          f"paste {runs - bare:.2f} s beyond start (target <= 0.3 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
