"""Journal benchmark (`make bench`, never in the tests).

- recording cost: CPU time of a session folding a 2,000,000-line log with and without recording,
  same input, same run: the least of 7 alternated runs each, after a warm-up of each (target:
  recording costs <= 10% more)
- replay --fast --summary speed in lines of recorded raw input per second (opening the journal
  included), the median of 3 runs, on a journal of each mix the issue names: ``trace`` (the mix this
  benchmark replayed when the target was set) and ``real`` (the field's families in real envelopes)
  (target >= 1,000,000 on both). The summary takes the recorded closing state (checkpoint.py), so the
  same runs also time ``--rederive``, which folds every line again, on those and, with no target,
  ``formats`` (every fixture format about evenly: nine lines in ten are ones the model follows, so it
  measures the fold of followed lines, about 11 us each)
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import genlog  # noqa: E402

from venustui.journal import Journal, Recorder  # noqa: E402
from venustui.session import Session, replay, replay_to_end  # noqa: E402
from venustui.sources import parse_spec  # noqa: E402


class TimedRecorder(Recorder):
    """A Recorder that notes its writer thread's own CPU time (the part of the cost no other thread pays)."""

    writer_cpu = 0.0

    def _run(self) -> None:
        super()._run()
        self.writer_cpu = time.thread_time()


def fold(log: Path, journal: Path | None) -> tuple[float, float]:
    """CPU time of the whole process (all threads: the journal writer included), and the writer's own."""
    recorder = TimedRecorder(journal) if journal is not None else None
    session = Session([parse_spec(str(log))], follow=False, recorder=recorder)
    start = time.process_time()
    session.start()
    session.run_to_end(timeout=600)
    session.stop()
    return time.process_time() - start, recorder.writer_cpu if recorder is not None else 0.0


def replay_speed(folder: Path, mix: str, count: int = 2_000_000) -> tuple[float, float]:
    """Lines of recorded raw input a second (median of 3) that ``replay --summary`` brings to the journal's end,
    as it does (the recorded closing state) and with --rederive (folding every line again), for a journal of
    a genlog mix."""
    log = folder / f"{mix}.log"
    with open(log, "w", encoding="utf-8") as f:
        for line in genlog.lines(count, seed=5, mix=mix):
            f.write(line + "\n")
    recording = folder / f"{mix}.vtj"
    fold(log, recording)
    speeds: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(3):
        for rederive in (False, True):
            start = time.perf_counter()
            journal = Journal.open(recording)
            session = Session([], follow=False)
            if rederive:  # the fold alone (--rederive then also compares the two states)
                replay(journal, session)
            elif not replay_to_end(journal, session).stored:
                raise SystemExit(f"replay of {recording}: the closing state was not taken")
            elapsed = time.perf_counter() - start
            speeds[rederive].append(sum(session.model.lines.values()) / elapsed)
            journal.close()
    return statistics.median(speeds[False]), statistics.median(speeds[True])


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="venustui-bench-journal-"))
    try:
        log = folder / "trace.log"
        with open(log, "w", encoding="utf-8") as f:
            for line in genlog.lines(2_000_000, seed=11, mix="trace"):
                f.write(line + "\n")
        size = log.stat().st_size
        recording = folder / "run.vtj"
        fold(log, None)  # warm-up of both: imports, page cache
        fold(log, recording)
        plain_times, recorded_times, writer_times = [], [], []
        for _ in range(7):  # alternated, so drift in the machine's speed hits both alike
            plain_times.append(fold(log, None)[0])
            # One journal at a time, as a session records: on this VM the kernel's cost of taking 124 MB
            # into its page cache varied 1-8 times with how recently it had used that memory.
            recording.unlink(missing_ok=True)
            total, writer = fold(log, recording)
            recorded_times.append(total)
            writer_times.append(writer)
        plain, recorded = min(plain_times), min(recorded_times)
        journal_size = recording.stat().st_size
        print(f"recording: {size / 1e6:.0f} MB, 2,000,000 lines (genlog --mix=trace): CPU {plain:.2f} s without, "
              f"{recorded:.2f} s with recording = {100 * (recorded / plain - 1):+.1f}% (target <= +10%); "
              f"the journal writer's own CPU {min(writer_times):.3f}-{max(writer_times):.3f} s; "
              f"journal {journal_size / 1e6:.0f} MB")
        speeds = {mix: replay_speed(folder, mix) for mix in ("formats", "trace", "real")}
        print(f"replay folding every line again (as --rederive does before it compares; no target): {speeds['formats'][1]:,.0f} "
              f"lines/s on --mix=formats, {speeds['trace'][1]:,.0f} on --mix=trace, {speeds['real'][1]:,.0f} on "
              "--mix=real (median of 3)")
        print(f"replay --fast --summary (the recorded closing state): {speeds['trace'][0]:,.0f} lines/s on "
              f"--mix=trace, {speeds['real'][0]:,.0f} on --mix=real (median of 3; target >= 1,000,000 on both)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
