"""What a screen drives: a session folded on a background thread, the flags, reruns, triage, marks.

Plain Python (no Textual): the TUI calls these actions and reads the model under ``lock``;
tests drive the same object headless. Every action is also an event in the session, so a
recording holds it and a replay shows it.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import numpy as np

from venustui.events import Chunk, Line
from venustui.flags import FlagSet
from venustui.index import classify, line_starts
from venustui.journal import pieces
from venustui.probe.runner import PROBE, Runner, Target
from venustui.session import Session
from venustui.triage import triage

STORE_BYTES = 64 << 20  # raw text kept for display; older lines are counted but no longer shown
FOLD_PIECE = 64 << 10  # bytes folded per lock hold: a few milliseconds
SCREEN_FIRST = 0.1  # the longest a key press holds folding back


@dataclass
class StoredChunk:
    first: int  # the store's own line number of the chunk's first line (notices take none)
    count: int
    chunk: Chunk
    starts: np.ndarray
    kinds: np.ndarray


class _Rewind(Exception):
    """A seek backwards: the replay starts over from the first event."""


_first = attrgetter("first")


def _stored_bytes(stored: StoredChunk) -> int:
    return len(stored.chunk.data) + stored.starts.nbytes + stored.kinds.nbytes


class LineStore:
    """The most recent lines of every source in arrival order, for a view that renders only what it shows.

    Lines are numbered densely from 0 in arrival order; old chunks are dropped past max_bytes.
    """

    def __init__(self, max_bytes: int = STORE_BYTES):
        self.max_bytes = max_bytes
        # Added to and dropped from by the fold thread while the screen reads: readers take one
        # atomic look (a C-level bisect or list copy under the GIL) and check what they got.
        self.chunks: deque[StoredChunk] = deque()
        self.bytes = 0
        self.total = 0  # lines ever added

    def add(self, chunk: Chunk, starts: np.ndarray | None = None, kinds: np.ndarray | None = None) -> None:
        """Keep a chunk; starts and kinds are the ingest's own when it just folded it."""
        if starts is None or kinds is None:
            starts = line_starts(chunk.data)
            kinds = classify(chunk.data, starts)
        stored = StoredChunk(self.total, chunk.count, chunk, starts, kinds)
        self.chunks.append(stored)
        self.total += chunk.count
        self.bytes += _stored_bytes(stored)
        while self.bytes > self.max_bytes and len(self.chunks) > 1:
            self.bytes -= _stored_bytes(self.chunks.popleft())

    @property
    def first(self) -> int:
        """The number of the oldest line still kept."""
        return self.chunks[0].first if self.chunks else 0  # never empty again once added to

    def line(self, number: int) -> tuple[Line, int] | None:
        """The line with this number and its kind byte, if still kept."""
        chunks = self.chunks
        for _ in range(8):
            at = bisect.bisect_right(chunks, number, key=_first) - 1
            if at < 0:
                return None
            try:
                stored = chunks[at]
            except IndexError:  # the oldest chunks were dropped after the bisect: look again
                continue
            if stored.first <= number:
                break
        else:
            return None
        index = number - stored.first
        if index >= stored.count:
            return None
        start = int(stored.starts[index])
        data = stored.chunk.data
        end = int(stored.starts[index + 1]) - 1 if index + 1 < len(stored.starts) else (
            len(data) - (0 if stored.chunk.partial else 1))
        return stored.chunk.line(start, end, index), int(stored.kinds[index])

    def number_of(self, seq: int) -> int | None:
        """The store's number for the line with this sequence number, if still kept."""
        for stored in list(self.chunks):
            if stored.chunk.seq <= seq < stored.chunk.seq + stored.count:
                return stored.first + seq - stored.chunk.seq
        return None

    def matching(self, predicate, start: int) -> list[int]:
        """Numbers of kept lines from start on whose (line, kind) satisfy predicate (for a filtered view)."""
        out = []
        for stored in list(self.chunks):
            if stored.first + stored.count <= start:
                continue
            for index in range(max(0, start - stored.first), stored.count):
                found = self.line(stored.first + index)
                if found is not None and predicate(*found):
                    out.append(stored.first + index)
        return out

    def search(self, text: str, before: int) -> int | None:
        """The number of the newest line before `before` that contains text (case-insensitive)."""
        needle = text.lower().encode()
        for stored in reversed(list(self.chunks)):
            if stored.first >= before:
                continue
            data = stored.chunk.data.lower()
            limit = len(data)
            if before < stored.first + stored.count:
                limit = int(stored.starts[before - stored.first])
            at = data.rfind(needle, 0, limit)
            if at >= 0:
                return stored.first + int(np.searchsorted(stored.starts, at, side="right") - 1)
        return None


class Control:
    def __init__(self, session: Session, *, lab=None, target: Target = PROBE, deadline: float = 5.0,
                 base_env: dict | None = None, driver_files: str | None = None, readonly: bool = False):
        self.session = session
        self.readonly = readonly  # a replayed journal: nothing is rerun or marked
        self.lab = lab
        self.target = target
        self.deadline = deadline
        self.lock = threading.RLock()
        self.lines = LineStore()
        self.flags = FlagSet()
        self.version = 0  # bumps whenever the model changed
        self.busy = ""  # what a background action is doing, for the status line
        self.messages: deque[str] = deque(maxlen=50)
        self._running = threading.Event()
        self._thread: threading.Thread | None = None
        env = lab.guest_env() if lab is not None else base_env
        files = lab.manifest["virtio_icd"] if lab is not None else driver_files
        self.runner = Runner(session.hub, deadline=deadline, base_env=env, driver_files=files,
                             health=lab.health if lab is not None else None)

    # lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.session.start()
        if self.lab is not None:
            seconds = self.lab.start(self.session.hub)
            self.messages.append(f"lab '{self.lab.name}' up in {seconds:.2f} s")
        self._running.set()
        self._thread = threading.Thread(target=self._pump, name="fold", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
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
                for piece in pieces(event, FOLD_PIECE):
                    self.fold_one(piece)
            else:
                self.fold_one(event)

    def fold_one(self, event) -> list:
        # A key press is being answered: the screen gets the CPU (the GIL) first, for a bounded time
        # (sources wait meanwhile: backpressure, nothing lost).
        self.wait_for_screen()
        with self.lock:
            records = self.session.fold(event)
            if isinstance(event, Chunk) and not event.overflow:  # overflow bytes are no line to show
                layout = self.session.ingest.layout
                if layout is not None and layout[0] is event:
                    self.lines.add(event, layout[1], layout[2])
                else:
                    self.lines.add(event)
            self.version += 1
            return records

    def screen_busy(self) -> None:
        """The screen is answering a key: reading (Hub.put) and folding wait until screen_done, or
        SCREEN_FIRST from now at the latest (a lost screen_done must not slow folding down for good)."""
        self.session.hub.hold(SCREEN_FIRST)

    def wait_for_screen(self) -> None:
        """Background work on the screen's behalf waits, like folding, while a key is answered."""
        self.session.hub.wait_while_held()

    def screen_done(self) -> None:
        self.session.hub.release()

    def stop(self) -> None:
        self.runner.stop()
        if self.lab is not None:
            self.lab.stop()
        self._running.clear()
        if self._thread is not None:
            self._thread.join(5)
        with self.lock:
            self.session.stop(deadline=0)  # the screen is gone: what is left is recorded, not folded

    # actions --------------------------------------------------------------------------
    def toggle(self, variable: str, name: str) -> FlagSet:
        self.flags = self.flags.toggled(variable, name)
        self.session.act("toggle", variable=variable, name=name, flags=self.flags.describe())
        if variable == "VKR_DEBUG" and self.lab is not None:
            names = self.flags.vkr_debug
            # The render server reads VKR_DEBUG when it starts: the lab's server starts again.
            self._background("restarting the lab's server",
                             lambda: self.messages.append(
                                 f"lab server restarted with VKR_DEBUG={','.join(names) or '(none)'} in "
                                 f"{self.lab.restart(self.session.hub, vkr_debug=names):.2f} s"))
        return self.flags

    def _background(self, what: str, work) -> bool:
        if self.readonly:
            self.messages.append(f"{what}: this is a replay (read-only)")
            return False
        if self.busy:
            self.messages.append(f"busy ({self.busy}); try again when it ends")
            return False

        def run():
            try:
                work()
            except Exception as exc:  # a failed action is reported on screen, the session goes on
                self.messages.append(f"{what} failed: {exc}")
            finally:
                self.busy = ""

        self.busy = what
        threading.Thread(target=run, name=what, daemon=True).start()
        return True

    def rerun(self) -> bool:
        """Run the target's phases with the current flags."""
        flags = self.flags
        self.session.act("rerun", target=self.target.name, flags=flags.describe())

        def work():
            for phase in self.target.phases:
                record = self.runner.run(self.target, flags, phase)
                self.messages.append(f"run #{record.run} {phase}: {record.outcome.text()}")
        return self._background(f"rerun with {flags.describe()}", work)

    def probe_now(self) -> bool:
        flags = self.flags
        self.session.act("probe", flags=flags.describe())

        def work():
            record = self.runner.run(PROBE, flags, "fence")
            self.messages.append(f"probe #{record.run}: {record.outcome.text()}")
        return self._background("probe", work)

    def watch_probe(self) -> str:
        """Start or stop a probe that resubmits every half second and streams fence and slot samples."""
        if self.busy == "probe --watch":
            self.runner.stop()
            return "probe watch stopped"
        flags = self.flags
        self.session.act("probe-watch", flags=flags.describe())

        def work():
            record = self.runner.run(PROBE, flags, "map", watch=0.5)
            self.messages.append(f"probe watch #{record.run} ended: {record.outcome.text()}")
        return "probe watch started (W stops it)" if self._background("probe --watch", work) else "busy"

    def triage(self) -> bool:
        self.session.act("triage", target=self.target.name)

        def work():
            result = triage(self.runner, self.target, phase=self.target.phases[0])
            self.messages.append(result.finding())
        return self._background("triage", work)

    def mark(self, seq: int, note: str) -> bool:
        if self.readonly:
            self.messages.append("mark: this is a replay (read-only)")
            return False
        self.session.act("mark", seq=seq, note=note)
        return True

    def replay(self, journal, speed: float | None) -> None:
        """Feed a journal into the screen on a background thread, at the recorded pace times speed.

        ``playing`` pauses and resumes it; ``step()`` lets one event through while paused;
        ``seek()`` moves it (back: the model is folded again from the start, unpaced, to there);
        ``replay_position`` and ``replay_total`` say where it is (the time scrubber).
        """
        from venustui.session import replay

        self.playing = threading.Event()
        self.playing.set()
        self._step = threading.Event()
        self.replay_total = journal.last_seq()
        self.replay_position = 0
        self._seek_to: int | None = None
        self._rewound = False  # the current seek went back: it ends at or before its target
        config = self.session.config

        def gate(event):
            last = event.seq + max(getattr(event, "count", 1), 1) - 1  # the event's last line
            while True:
                target = self._seek_to
                if target is not None and target < self.replay_position:
                    raise _Rewind()
                if target is not None and self._rewound and last > target and self.replay_position > 0:
                    self._end_seek(target)  # moved back: stop before the event that passes the target
                    continue
                if target is not None or self.playing.is_set() or self._step.is_set():
                    break
                self.playing.wait(0.1)
            self._step.clear()
            records = self.fold_one(event)
            self.replay_position = last
            if target is not None and last >= target:
                self._end_seek(target)
            return records

        def pace():
            return None if self._seek_to is not None or not speed else speed

        def run():
            while True:
                try:
                    replay(journal, self.session, speed=pace, fold=gate)
                    self.messages.append("replay finished")
                    return
                except _Rewind:
                    self._rewound = True
                    with self.lock:  # the same journal folds to the same lines: numbers stay valid
                        self.session = Session([], config, follow=False)
                        self.lines = LineStore()
                        self.replay_position = 0
                        self.version += 1
                except Exception as exc:  # a damaged journal: say so on screen, keep what was shown
                    self.messages.append(f"replay stopped: {exc}")
                    return

        self._running.set()
        threading.Thread(target=run, name="replay", daemon=True).start()

    def step(self) -> None:
        self._step.set()

    def _end_seek(self, target: int) -> None:
        if self._seek_to == target:  # not if a newer seek came meanwhile
            self._seek_to = None
            self._rewound = False

    def seek(self, fraction: float) -> int:
        """Move the replay by a fraction of the journal (negative: back); returns the target line number."""
        base = self._seek_to if self._seek_to is not None else self.replay_position  # presses add up
        target = min(max(1, base + int(fraction * self.replay_total)), self.replay_total)
        self._seek_to = target
        return target

    def toggle_recording(self) -> str:
        recorder = self.session.recorder
        if recorder is None:
            return "not recording (started with --no-record)"
        recorder.paused = not recorder.paused
        self.session.act("recording", paused=recorder.paused)
        return "recording paused" if recorder.paused else f"recording to {recorder.path}"

    def driver_facts(self) -> list[dict]:
        """ELF facts of the Venus driver and render server in use (the lab's), for the driver pane."""
        if self.lab is None or not self.lab.installed():
            return []
        from venustui.elf import inspect
        from venustui.errors import UserError
        from venustui.loader import read_manifest

        out = []
        manifest = self.lab.manifest
        driver = read_manifest(Path(manifest["virtio_icd"]), "the lab").library
        for label, path in (("Venus driver (the lab)", driver), ("render server (the lab)", manifest["render_server"])):
            try:
                out.append({"what": label, "library": path, **inspect(path).as_dict()})
            except UserError as exc:
                out.append({"what": label, "library": path, "problem": str(exc)})
        return out

    def known_flags(self) -> dict[str, list[str]]:
        """The flag names a picker offers: the loaded driver's own where it can be read, else the catalogue."""
        from venustui.parse.venus_flags import CATALOGUE

        names = {v: [f.name for f in CATALOGUE if f.variable == v and not f.renamed_to]
                 for v in ("VN_PERF", "VN_DEBUG")}
        names["VKR_DEBUG"] = ["validate", "udmabuf", "gbm", "all"]
        for entry in self.driver_facts():
            for variable, flags in entry.get("flags", {}).items():
                names[variable] = [f["name"] for f in flags]
        return names
