"""Ingest benchmark (`make bench`, never in the tests).

1. Index and classify a deterministic 2,000,000-line mixed Venus log, against lnav's headless
   index and `grep -c .` in the same run.
2. Live tail: a writer process appends 200,000 lines/s for 10 s while a venustui session follows
   the file; lines lost (count and checksum), p99 lag from write to model, the session's CPU share.

The index runs on two mixes: ``formats`` (every fixture format about evenly) and ``real`` (the field's
families in real envelopes). The last line is `ratio vs lnav: X on --mix=formats, Y on --mix=real`
(lnav's time over venustui's).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import genlog  # noqa: E402  (the generator beside this file)

from venustui.index import index_file  # noqa: E402
from venustui.session import Session  # noqa: E402
from venustui.sources import parse_spec  # noqa: E402


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def index_bench(folder: Path, lines: int, mix: str = "formats") -> float:
    log = folder / f"{mix}.log"
    genlog_main(log, lines, mix)
    size = log.stat().st_size
    print(f"log: {lines:,} lines, {size / 1e6:.1f} MB (bench/genlog.py --mix={mix})")

    lnav = shutil.which("lnav")
    if lnav is None:
        raise SystemExit("lnav is not installed (make bench installs it: apt-get install lnav)")
    home = tempfile.mkdtemp(prefix="lnav-home-")
    version = subprocess.run([lnav, "-V"], capture_output=True, text=True).stdout.strip()
    lnav_cmd = [lnav, "-n", "-N", "-q", "-c", ";SELECT lines FROM lnav_file", "-c", ":write-csv-to -", str(log)]
    env = {**os.environ, "HOME": home}
    first = subprocess.run(lnav_cmd, capture_output=True, text=True, env=env)  # untimed: warms caches
    lnav_lines = int(first.stdout.split()[-1])
    lnav_time = best_of(3, lambda: subprocess.run(lnav_cmd, capture_output=True, env=env, check=True))
    grep_time = best_of(3, lambda: subprocess.run(["grep", "-c", ".", str(log)], capture_output=True, check=True))

    ours = index_time(log)
    index = index_file(log)
    assert index.lines == lines == lnav_lines, (index.lines, lnav_lines)
    print(f"{version}: {lnav_time:.3f} s   grep -c: {grep_time:.3f} s   venustui index+classify: {ours:.3f} s "
          f"({os.cpu_count()} cores)")
    per_line = (index.offsets.nbytes + index.kinds.nbytes) / index.lines
    print(f"index: {per_line:.1f} bytes/line in its arrays; a fresh interpreter grows "
          f"{index_growth(log) / index.lines:.1f} bytes/line while holding it")
    kinds = index.format_counts()
    print("kinds: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
    return lnav_time / ours


def index_time(log: Path) -> float:
    """venustui's index+classify, the least of 3 after an untimed run (as for lnav), in a fresh interpreter: lnav
    runs in processes of its own, while this one holds what the live benchmark left (its heap made the index
    10-20% slower here)."""
    code = (
        "import sys, time\n"
        "from venustui.index import index_file\n"
        "index_file(sys.argv[1])\n"
        "times = []\n"
        "for _ in range(3):\n"
        "    start = time.perf_counter(); index_file(sys.argv[1]); times.append(time.perf_counter() - start)\n"
        "print(min(times))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def index_growth(log: Path) -> int:
    """RSS a fresh interpreter gains by building and holding the index (after imports and a warm-up)."""
    code = (
        "import gc, sys\n"
        "from venustui.index import index_file\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from ingest import rss_kib\n"
        "index_file(sys.argv[1], workers=2)\n"  # warm-up: allocator and imports settle
        "gc.collect(); before = rss_kib()\n"
        "index = index_file(sys.argv[1], workers=2)\n"
        "gc.collect(); print((rss_kib() - before) * 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def genlog_main(path: Path, lines: int, mix: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for line in genlog.lines(lines, mix=mix):
            f.write(line + "\n")


def writer(path: str, batches: list[bytes], interval: float, start_at: float, times_out) -> None:
    """Append one batch every interval from start_at; report when each batch was written."""
    written = []
    with open(path, "ab", buffering=0) as f:
        for k, batch in enumerate(batches):
            due = start_at + k * interval
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            f.write(batch)
            written.append(time.monotonic())
    times_out.send(written)


def live_bench(folder: Path, rate: int, seconds: float) -> None:
    per_batch = 1000
    interval = per_batch / rate
    count = int(rate * seconds)
    lines = [line.encode() + b"\n" for line in genlog.lines(count, seed=7, mix="trace")]
    batches = [b"".join(lines[i:i + per_batch]) for i in range(0, count, per_batch)]
    expected_crc = zlib.crc32(b"".join(batches))
    batch_ends = np.cumsum([len(b) for b in batches])
    del lines

    path = folder / "live.log"
    path.touch()
    session = Session([parse_spec(f"live={path}")], follow=True, poll_interval=0.05)
    session.start()
    receive, send = multiprocessing.Pipe(duplex=False)
    start_at = time.monotonic() + 0.5
    proc = multiprocessing.get_context("fork").Process(
        target=writer, args=(str(path), batches, interval, start_at, send))
    cpu_before = time.process_time()
    proc.start()
    crc = 0
    folded_at: list[tuple[int, float]] = []  # (end offset of a folded chunk, when it was folded)
    total_bytes = int(batch_ends[-1])
    deadline = start_at + seconds + 30
    read_bytes = 0
    while read_bytes < total_bytes and time.monotonic() < deadline:
        for event, _ in session.pump(0.05):
            data = getattr(event, "data", None)
            if data is not None:
                crc = zlib.crc32(data, crc)
                read_bytes = event.offset + len(data)
                folded_at.append((read_bytes, time.monotonic()))
    wall = time.monotonic() - start_at
    cpu = time.process_time() - cpu_before
    write_times = receive.recv()
    proc.join()
    session.stop()

    folded = session.model.lines["live"]
    ends = np.array([e for e, _ in folded_at], dtype=np.int64)
    when = np.array([t for _, t in folded_at])
    # Each batch's lines reached the model with the chunk that held its last byte.
    which = np.searchsorted(ends, batch_ends, side="left")
    which = np.minimum(which, len(ends) - 1)
    lags = when[which] - np.array(write_times)
    p99 = float(np.percentile(np.repeat(lags, per_batch), 99)) * 1000
    tracked = session.ingest.slow_lines
    print(f"live: {count:,} lines at {rate:,}/s for {seconds:.0f} s; folded {folded:,}; lost {count - folded} "
          f"lines; checksum {'equal' if crc == expected_crc else 'DIFFERENT'}")
    print(f"live: p99 lag write→model {p99:.1f} ms (max {lags.max() * 1000:.1f} ms); session CPU "
          f"{100 * cpu / wall:.0f}% of one core over {wall:.1f} s; parsed on the slow path "
          f"{tracked:,} lines ({100 * tracked / max(folded, 1):.1f}%)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--rate", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    debian = Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "?"
    print(f"machine: Debian {debian}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}")
    folder = Path(tempfile.mkdtemp(prefix="venustui-bench-"))
    try:
        live_bench(folder, args.rate, args.seconds)
        real = index_bench(folder, args.lines, "real")
        ratio = index_bench(folder, args.lines)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"ratio vs lnav: {ratio:.2f} on --mix=formats, {real:.2f} on --mix=real (targets >= 1.5 and >= 2.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
