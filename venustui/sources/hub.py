"""Where sources deliver: a bounded queue of batches that numbers events as they leave it.

Producers block when the queue holds its budget of bytes, so a slow consumer slows the
readers (a file waits on disk, a child process waits on its pipe) instead of lines being
dropped or buffered without bound. The budget is in bytes, not batches: a file source
hands over a mebibyte a batch, so 256 batches were 256 MiB of memory under a flood.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

from venustui.events import Chunk, Event

QUEUED_BYTES = 16 << 20  # what sources may have read ahead of the fold


def _size(events: list[Event]) -> int:
    return sum(len(e.data) if isinstance(e, Chunk) else 64 for e in events)


class Hub:
    def __init__(self, max_bytes: int = QUEUED_BYTES):
        self.max_bytes = max_bytes
        self._batches: deque[tuple[list[Event], int]] = deque()
        self._bytes = 0
        self._changed = threading.Condition()
        self._seq = 0
        self._closed = False
        # Called before each hand-over: a hook for whoever must go first (a screen answering a key
        # holds producers back for a moment; the policy is the screen's, the hook is here).
        self.gate: Callable[[], None] | None = None

    def put(self, events: list[Event]) -> None:
        """Hand a batch over; blocks while the consumer is behind (backpressure) or the gate holds it.
        Once closed, nothing waits and nothing is dropped: the batch is kept for take_rest()."""
        if not events:
            return
        if self.gate is not None:
            self.gate()
        size = _size(events)
        with self._changed:
            # An empty queue takes any batch, so one larger than the budget still goes through.
            while not self._closed and self._batches and self._bytes + size > self.max_bytes:
                self._changed.wait(0.2)
            self._batches.append((events, size))
            self._bytes += size
            self._changed.notify_all()

    def close(self) -> None:
        """Stop making producers wait: those blocked in put() hand their batch over and return (shutdown)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def take(self, timeout: float, max_events: int = 50_000) -> list[Event]:
        """Everything waiting (up to max_events), numbered in arrival order; [] on timeout."""
        out: list[Event] = []
        with self._changed:
            if not self._batches:
                self._changed.wait(timeout)
            while self._batches and (not out or len(out) < max_events):
                events, size = self._batches.popleft()
                out.extend(events)
                self._bytes -= size
            if out:
                self._changed.notify_all()
        self._number(out)
        return out

    def take_rest(self) -> list[Event]:
        """Everything left (after close), numbered in arrival order."""
        out: list[Event] = []
        with self._changed:
            while self._batches:
                out.extend(self._batches.popleft()[0])
            self._bytes = 0
            self._changed.notify_all()
        self._number(out)
        return out

    def _number(self, events: Iterable[Event]) -> None:
        """A notice takes one number, a chunk one per line (an overflow chunk, having none, takes none)."""
        seq = self._seq
        for event in events:
            event.seq = seq + 1
            seq += event.count if isinstance(event, Chunk) else 1
        self._seq = seq

    @property
    def backlog(self) -> int:
        """Batches waiting."""
        return len(self._batches)
