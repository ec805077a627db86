"""Background jobs a screen starts (reruns, probes, triage, a server restart): one at a time.

``JobRunner.start`` claims the one slot and starts the job's thread in one step under a lock, so
two keys pressed at once cannot both start a job; ``current`` says which job runs (a typed
status, not a string used as a mutex); threads are joined at ``join``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str  # what it does, for the status line ("rerun with VN_PERF=no_fence_feedback")
    started: float  # time.monotonic()


class JobRunner:
    def __init__(self, on_failure: Callable[[str], None]):
        self.on_failure = on_failure  # told "WHAT failed: REASON" when a job raises
        self._lock = threading.Lock()
        self._current: Job | None = None
        self._threads: list[threading.Thread] = []

    @property
    def current(self) -> Job | None:
        return self._current

    @property
    def busy(self) -> str:
        """The running job's name, or "" when none runs."""
        job = self._current
        return job.name if job is not None else ""

    def start(self, name: str, work: Callable[[], None]) -> bool:
        """Run work on a thread unless a job runs already (then False, and nothing starts)."""
        with self._lock:
            if self._current is not None:
                return False
            self._current = job = Job(name, time.monotonic())
            thread = threading.Thread(target=self._run, args=(job, work), name=name, daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()
        return True

    def _run(self, job: Job, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:  # a failed action is reported on screen, the session goes on
            self.on_failure(f"{job.name} failed: {exc}")
        finally:
            with self._lock:
                if self._current is job:
                    self._current = None

    def join(self, timeout: float = 10.0) -> None:
        """Wait for the jobs' threads (after whatever ends them, e.g. the runner's stop)."""
        for thread in list(self._threads):
            thread.join(timeout)
