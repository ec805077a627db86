"""The screen first: under a flood, a key press is answered before more lines are read or folded.

Python threads share one interpreter lock: with the fold and the sources busy, a key waited
50-200 ms for the event loop. The app holds producers (the hub's gate) and folding (the
follower's gate) from a key's arrival until the screen update after its binding ran, and never
longer than ``limit`` in all, so a lost release cannot slow folding down for good. This is the
screen's policy; the core only offers the two gates.
"""

from __future__ import annotations

import threading
import time

SCREEN_FIRST = 0.1  # the longest a key press holds folding and reading back


class KeyHold:
    def __init__(self, limit: float = SCREEN_FIRST, clock=time.monotonic):
        self.limit = limit
        self.clock = clock
        self._open = threading.Event()
        self._open.set()
        self._until = 0.0
        self.holds = 0  # key presses held for, and released: a test checks every hold ends
        self.releases = 0

    def attach(self, control) -> None:
        """Gate the control's producers and fold with this hold."""
        control.session.hub.gate = self.wait
        control.follower.gate = self.wait

    def hold(self) -> None:
        self._until = self.clock() + self.limit
        self._open.clear()
        self.holds += 1

    def release(self) -> None:
        if not self._open.is_set():
            self.releases += 1
        self._open.set()

    @property
    def held(self) -> bool:
        return not self._open.is_set()

    def wait(self) -> None:
        """Until release, or the end of the hold at the latest."""
        left = self._until - self.clock()
        if left > 0:
            self._open.wait(left)
