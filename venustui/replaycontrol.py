"""A journal replayed into a screen: pace, pause, one event at a time, and seeking back and on.

Exists only in a replay (``Control.replayer``). It folds through the ``Follower`` (same lock,
same line store), on a thread of its own that ``stop`` joins. Moving back folds the journal
again from its start, unpaced, into a fresh session; moving on folds unpaced to the target.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from venustui.follower import Follower
from venustui.session import Session, replay


class _Rewind(Exception):
    """A seek backwards: the replay starts over from the first event."""


class ReplayController:
    def __init__(self, follower: Follower, journal, speed: float | None, say: Callable[[str], None]):
        self.follower = follower
        self.journal = journal
        self.speed = speed
        self.say = say  # a message for the status line
        self.playing = threading.Event()  # set: events go through at the recorded pace
        self.playing.set()
        self.total = journal.last_seq()
        self.position = 0  # the last line number folded
        self.seeking_to: int | None = None
        self._step = threading.Event()
        self._rewound = False  # the current seek went back: it ends at or before its target
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self.playing.set()
        self._thread.join(5)

    def toggle(self) -> bool:
        """Pause or play; returns whether it plays now."""
        if self.playing.is_set():
            self.playing.clear()
        else:
            self.playing.set()
        return self.playing.is_set()

    def step(self) -> None:
        """Let one event through while paused."""
        self._step.set()

    def seek(self, fraction: float) -> int:
        """Move by a fraction of the journal (negative: back); returns the target line number."""
        base = self.seeking_to if self.seeking_to is not None else self.position  # presses add up
        target = min(max(1, base + int(fraction * self.total)), self.total)
        self.seeking_to = target
        return target

    def _end_seek(self, target: int) -> None:
        if self.seeking_to == target:  # not if a newer seek came meanwhile
            self.seeking_to = None
            self._rewound = False

    def _gate(self, event):
        last = event.seq + max(getattr(event, "count", 1), 1) - 1  # the event's last line
        while True:
            if self._stopped.is_set():
                raise _Stopped()
            target = self.seeking_to
            if target is not None and target < self.position:
                raise _Rewind()
            if target is not None and self._rewound and last > target and self.position > 0:
                self._end_seek(target)  # moved back: stop before the event that passes the target
                continue
            if target is not None or self.playing.is_set() or self._step.is_set():
                break
            self.playing.wait(0.1)
        self._step.clear()
        records = self.follower.fold_one(event)
        self.position = last
        if target is not None and last >= target:
            self._end_seek(target)
        return records

    def _pace(self):
        return None if self.seeking_to is not None or not self.speed else self.speed

    def _run(self) -> None:
        config = self.follower.session.config
        while True:
            try:
                replay(self.journal, self.follower.session, speed=self._pace, fold=self._gate)
                self.say("replay finished")
                return
            except _Stopped:
                return
            except _Rewind:
                self._rewound = True
                self.position = 0
                # The same journal folds to the same lines: line numbers stay valid.
                self.follower.reset(Session([], config, follow=False))
            except Exception as exc:  # a damaged journal: say so on screen, keep what was shown
                self.say(f"replay stopped: {exc}")
                return


class _Stopped(Exception):
    """The screen closed during the replay."""
