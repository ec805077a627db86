"""Folding a live session on a thread of its own, for a screen: the fold thread, its lock and its version.

``Follower`` takes batches off the session's hub, records them, folds them in pieces of
``FOLD_PIECE`` bytes under ``lock`` (so a screen reading the model never waits long), keeps the
``LineStore`` a log view draws from, and says when the model changed: ``version`` bumps, and
``on_change`` is called (from the fold thread; a screen coalesces these into one message).
Before each piece it calls ``gate``, a hook a screen uses to go first (its policy is the screen's).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from venustui.events import Chunk
from venustui.journal import pieces
from venustui.linestore import LineStore
from venustui.session import Session

FOLD_PIECE = 64 << 10  # bytes folded per lock hold: a few milliseconds


class Follower:
    def __init__(self, session: Session, *, gate: Callable[[], None] | None = None,
                 on_change: Callable[[], None] | None = None):
        self.session = session
        self.lines = LineStore()
        self.lock = threading.RLock()
        self.version = 0  # bumps whenever the model changed
        self.gate = gate
        self.on_change = on_change
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the session's sources and the fold thread."""
        self.session.start()
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="fold", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._running.is_set():
            events = self.session.hub.take(0.05)
            if events:
                self.fold(events)

    def fold(self, events) -> None:
        """Record a batch, then fold it in pieces, so the screen never waits long for the lock."""
        if self.session.recorder is not None:
            self.session.recorder.record(events)
        for event in events:
            if isinstance(event, Chunk) and len(event.data) > FOLD_PIECE:
                self.session.folds_whole_chunks = False
                for piece in pieces(event, FOLD_PIECE):
                    self.fold_one(piece)
            else:
                self.fold_one(event)

    def fold_one(self, event) -> list:
        """One event into the model and the line store; returns its records."""
        if self.gate is not None:
            self.gate()
        with self.lock:
            records = self.session.fold(event)
            if isinstance(event, Chunk) and not event.overflow:  # overflow bytes are no line to show
                folded = self.session.ingest.folded
                if folded is not None and folded.chunk is event:  # the ingest's own line starts and kinds
                    self.lines.add(event, folded.starts, folded.kinds)
                else:
                    self.lines.add(event)
            self.version += 1
        if self.on_change is not None:
            self.on_change()
        return records

    def reset(self, session: Session) -> None:
        """Fold into a fresh session and line store from now on (a replay that moves back starts over)."""
        with self.lock:
            self.session = session
            self.lines = LineStore()
            self.version += 1
        if self.on_change is not None:
            self.on_change()

    def stop(self) -> None:
        """End the fold thread (joined) and the session; what is left is recorded, not folded."""
        self._running.clear()
        if self._thread is not None:
            self._thread.join(5)
        with self.lock:
            self.session.stop(deadline=0)

