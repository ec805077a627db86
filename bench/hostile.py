"""Hostile-input benchmark (`make bench`, never in the tests): the bounds the audit asked for, measured.

- a 1 GB file with no newline (sparse): time and peak RSS of `watch -q --no-follow` (target: RSS < 300 MB,
  time linear: the same run on a 256 MB file is printed beside it)
- /dev/zero and /dev/urandom followed for 20 s: peak RSS (target: RSS < 300 MB, levelling off)
- a 500-file glob, idle: CPU of `watch` over 20 s (target: <= 5% of a core; one file beside it)
- every rule against its own text repeated: each real line of the fixtures (tests/data) and the first 10, 24 and
  48 characters of it, repeated to a 40 KB line, parsed once (target: the slowest <= 0.25 s; a rule whose cost
  grows with the square of a line's length shows here)
- `watch`'s per-line view of 100,000 real lines (the seed and lab captures, repeated) written to a
  file, beside `cat` of the same file (target: >= 50,000 lines/s); the ratio is the last line
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENUSTUI = [sys.executable, "-m", "venustui"]
REAL = sorted((ROOT / "tests" / "data" / "seed").glob("*.log")) + sorted(
    (ROOT / "tests" / "data" / "lab-lavapipe").glob("*.log"))


def run_measured(argv: list[str], stdout=subprocess.DEVNULL, seconds: float | None = None) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of argv run to its end, or stopped with SIGINT after seconds."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL, cwd=ROOT)
    if seconds is not None:
        time.sleep(seconds)
        proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - start, usage.ru_maxrss / 1024


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def idle_cpu(pattern: str, seconds: float = 20.0) -> float:
    """Percent of one core a following `watch -q` uses while nothing changes."""
    proc = subprocess.Popen([*VENUSTUI, "watch", "-q", pattern], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT)
    time.sleep(5)  # start-up and the first read are not idling
    before = cpu_ticks(proc.pid)
    time.sleep(seconds)
    used = cpu_ticks(proc.pid) - before
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    return 100.0 * used / os.sysconf("SC_CLK_TCK") / seconds


def repeated_fragments(limit: int = 40_000) -> tuple[int, float, str]:
    """Parse every fixture line's fragments repeated to a long line, and its start followed by a long run of spaces
    (a lazy capture before trailing spaces costs the square of the run): how many, the slowest time and its line."""
    from venustui.parse import Parser

    seeds = dict.fromkeys(line.strip() for path in sorted((ROOT / "tests" / "data").rglob("*.log"))
                          for line in path.read_text(errors="replace").splitlines() if len(line.strip()) > 12)
    worst, worst_line, count = 0.0, "", 0
    for seed in seeds:
        lines = [fragment * max(1, limit // len(fragment)) for fragment in dict.fromkeys((seed[:10], seed[:24], seed[:48],
                                                                                          seed))]
        lines.append(seed[:48] + " " * limit + "x")
        for line in lines:
            fragment = line[:48]
            start = time.perf_counter()
            Parser().parts("bench", "file", line.encode())
            took = time.perf_counter() - start
            count += 1
            if took > worst:
                worst, worst_line = took, fragment
    return count, worst, worst_line


def main() -> int:
    count, worst, fragment = repeated_fragments()
    print(f"{count:,} lines of a real line's fragment repeated to 40 KB, or its start then 40 KB of spaces: the slowest "
          f"parsed in {worst:.3f} s (starting {fragment!r}; target <= 0.25 s)", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for size in (256 << 20, 1 << 30):
            sparse = work / f"zeros-{size >> 20}.log"
            with open(sparse, "wb") as f:
                f.truncate(size)
            wall, rss = run_measured([*VENUSTUI, "watch", "-q", "--no-follow", str(sparse)])
            print(f"no newline, {size >> 20} MB: {wall:.1f} s ({size / wall / 1e6:.0f} MB/s), peak RSS {rss:.0f} MB "
                  "(target < 300 MB, time linear in the size)", flush=True)
        for device in ("/dev/zero", "/dev/urandom"):
            wall, rss = run_measured([*VENUSTUI, "watch", "-q", device], seconds=20)
            print(f"{device} followed for 20 s: peak RSS {rss:.0f} MB (target < 300 MB)", flush=True)

        many = work / "many"
        many.mkdir()
        for i in range(500):
            (many / f"guest-{i:03d}.log").write_bytes(b"MESA-VIRTIO: debug: vn_QueueSubmit: VK_SUCCESS\n")
        print(f"idle, one file: {idle_cpu(str(many / 'guest-000.log')):.1f}% of a core; a 500-file glob: "
              f"{idle_cpu(str(many / '*.log')):.1f}% (target <= 5%)", flush=True)

        lines = b"".join(path.read_bytes() for path in REAL).splitlines(keepends=True)
        real = work / "real.log"
        with open(real, "wb") as f:
            f.writelines((lines * (100_000 // len(lines) + 1))[:100_000])
        shown = work / "watch.out"
        cat_best = watch_best = float("inf")
        for _ in range(3):
            with open(work / "cat.out", "wb") as out:
                start = time.perf_counter()
                subprocess.run(["cat", str(real)], stdout=out, check=True)
                cat_best = min(cat_best, time.perf_counter() - start)
            with open(shown, "wb") as out:
                watch_best = min(watch_best, run_measured([*VENUSTUI, "watch", "--no-follow", str(real)],
                                                          stdout=out)[0])
        shown_lines = sum(1 for _ in open(shown, "rb"))
        print(f"watch --no-follow of 100,000 real lines to a file: {watch_best:.2f} s = "
              f"{100_000 / watch_best:,.0f} lines/s ({shown_lines:,} lines written; target >= 50,000 lines/s); "
              f"cat: {cat_best * 1000:.1f} ms; ratio watch/cat {watch_best / cat_best:,.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
