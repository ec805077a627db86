"""Where sources deliver: a bounded queue of batches that numbers events as they leave it.

Producers block when the queue is full, so a slow consumer slows the readers
(a file waits on disk, a child process waits on its pipe) instead of lines being
dropped or buffered without bound.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable

from venustui.events import Event


class Hub:
    def __init__(self, max_batches: int = 256):
        self._queue: queue.Queue[list[Event]] = queue.Queue(max_batches)
        self._seq = 0
        self._closed = threading.Event()
        self._open = threading.Event()
        self._open.set()
        self._held_until = 0.0

    def hold(self, seconds: float) -> None:
        """Producers wait in put() until release(), or seconds from now at the latest: a screen
        answering a key gets the CPU and the GIL before more lines are read."""
        self._held_until = time.monotonic() + seconds
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    @property
    def held(self) -> bool:
        return not self._open.is_set()

    def wait_while_held(self) -> None:
        """Until release(), or the end of the hold at the latest (a lost release must not stall for good)."""
        left = self._held_until - time.monotonic()
        if left > 0:
            self._open.wait(left)

    def put(self, events: list[Event]) -> None:
        """Hand a batch over; blocks while the consumer is behind (backpressure) or holds producers."""
        if not events:
            return
        self.wait_while_held()
        while not self._closed.is_set():
            try:
                self._queue.put(events, timeout=0.2)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Stop accepting: producers blocked in put() return (used at shutdown)."""
        self._closed.set()

    def take(self, timeout: float, max_events: int = 50_000) -> list[Event]:
        """Everything waiting (up to max_events), numbered in arrival order; [] on timeout."""
        out: list[Event] = []
        try:
            out.extend(self._queue.get(timeout=timeout))
        except queue.Empty:
            return out
        while len(out) < max_events:
            try:
                out.extend(self._queue.get_nowait())
            except queue.Empty:
                break
        self._number(out)
        return out

    def _number(self, events: Iterable[Event]) -> None:
        """A notice takes one number, a chunk one per line."""
        seq = self._seq
        for event in events:
            event.seq = seq + 1
            seq += getattr(event, "count", 1) or 1
        self._seq = seq

    @property
    def backlog(self) -> int:
        return self._queue.qsize()
