"""A headless session: sources feed the hub, the parser turns lines into records, the model folds them.

The CLI, the tests and (later) the TUI drive the same object: ``pump`` takes one
batch off the hub and returns what it understood, so nothing here waits on a
screen and nothing here knows of one.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterable, Sequence

from venustui.config import Config
from venustui.events import Chunk, Notice, Record, RunEvent
from venustui.ingest import Ingest
from venustui.journal import Action, Recorder
from venustui.model import Model
from venustui.parse import Parser
from venustui.sources import SourceSpec, check_spec, open_source
from venustui.sources.hub import Hub
from venustui.sources.watcher import Watcher


class Session:
    def __init__(self, specs: Sequence[SourceSpec], config: Config | None = None, *, follow: bool = True,
                 poll_interval: float = 0.25, recorder: Recorder | None = None):
        self.config = config or Config()
        self.specs = list(specs)
        self.follow = follow
        self.poll_interval = poll_interval
        self.hub = Hub()
        self.parser = Parser(self.config.rules, self.config.mesa_version)
        self.model = Model()
        self.ingest = Ingest(self.parser, self.model)
        self.recorder = recorder
        self.watcher = Watcher() if follow else None
        self.sources: list = []
        self._runner: threading.Thread | None = None
        self._started = False

    def check(self) -> None:
        """Raise UserError for a source that can never be read (before anything starts)."""
        for spec in self.specs:
            check_spec(spec, self.follow)

    def start(self) -> None:
        self.check()
        self._started = True
        # A session holds a large, long-lived model and makes many short-lived objects per
        # batch; CPython's default thresholds then run full collections often enough to stall
        # the fold for 100 ms at a time. Our objects rarely form cycles: collect less often.
        gc.set_threshold(50_000, 20, 1000)
        self.sources = [open_source(spec, self.hub, follow=self.follow, watcher=self.watcher,
                                    poll_interval=self.poll_interval) for spec in self.specs]
        if self.follow:
            for source in self.sources:
                source.start()
        else:
            # Finite reads go one source after another, so the fold is deterministic.
            self._runner = threading.Thread(target=self._run_in_order, name="sources", daemon=True)
            self._runner.start()

    def _run_in_order(self) -> None:
        for source in self.sources:
            source.start()
            source.join()

    @property
    def finished(self) -> bool:
        """True once every source has ended and everything it delivered has been taken."""
        if not self._started:
            return False
        if self._runner is not None and self._runner.is_alive():
            return False
        return not any(s.alive for s in self.sources) and self.hub.backlog == 0

    def pump(self, timeout: float = 0.1) -> list[tuple[Chunk | Notice | RunEvent | Action, list[Record]]]:
        """Take one batch, record it, fold it; returns each event with the records parsed from it."""
        batch = self.hub.take(timeout)
        if self.recorder is not None:
            self.recorder.record(batch)
        return [(event, self.fold(event)) for event in batch]

    def fold(self, event) -> list[Record]:
        """The one path every event takes into the model, live or replayed."""
        if isinstance(event, Chunk):
            return self.ingest.fold(event)
        self.model.apply(event)
        return []

    def act(self, action: str, **data) -> None:
        """A user action (toggle, rerun, mark): numbered, recorded and folded like everything else."""
        self.hub.put([Action(action, data, time.time(), time.monotonic())])

    def run_to_end(self, timeout: float = 60.0) -> list[tuple[Chunk | Notice, list[Record]]]:
        """Pump until every source has ended (finite sessions: files without follow, commands)."""
        deadline = time.monotonic() + timeout
        out: list[tuple[Chunk | Notice, list[Record]]] = []
        while not self.finished and time.monotonic() < deadline:
            out.extend(self.pump(0.05))
        out.extend(self.pump(0))
        return out

    def stop(self) -> None:
        for source in self.sources:
            source.stop()
        self.hub.close()
        for source in self.sources:
            source.join(5)
        if self.watcher is not None:
            self.watcher.close()
        # Whatever the sources delivered while stopping is folded (and recorded) too.
        while self.hub.backlog:
            self.pump(0)
        if self.recorder is not None:
            self.recorder.close()


def fold_files(paths: Iterable[str], config: Config | None = None) -> Model:
    """Read whole files once, in order, and return the model they build."""
    from venustui.sources import parse_spec

    session = Session([parse_spec(p) for p in paths], config, follow=False)
    session.start()
    try:
        session.run_to_end()
    finally:
        session.stop()
    return session.model


def replay(journal, session: Session, *, speed: float | None = None, until_seq: int | None = None,
           until_time: float | None = None, on_event=None, fold=None) -> int:
    """Feed a journal through the session's fold in recorded order; returns how many events.

    speed None replays as fast as possible, joining consecutive chunks of one stream into
    larger ones (folding is the same for any chunking, and larger chunks fold faster);
    otherwise recorded gaps are waited out, divided by speed. until_time is seconds after the
    first recorded event.
    """
    count = 0
    first_mono = None
    started = time.monotonic()
    held: Chunk | None = None

    fold_one = fold or session.fold

    def fold(event) -> None:
        records = fold_one(event)
        if on_event is not None:
            on_event(event, records)

    for event in journal.events(until_seq):
        first_mono = event.mono if first_mono is None else first_mono
        offset = event.mono - first_mono
        if until_time is not None and offset > until_time:
            break
        count += 1
        if speed:
            delay = offset / speed - (time.monotonic() - started)
            if delay > 0:
                time.sleep(delay)
        if until_seq is not None and isinstance(event, Chunk) and event.seq + event.count - 1 > until_seq:
            event = _first_lines(event, until_seq - event.seq + 1)
        if speed is None and on_event is None and isinstance(event, Chunk):  # join pieces of one read
            if held is not None and _continues(held, event) and len(held.data) < REPLAY_CHUNK:
                held = _joined(held, event)
                continue
            if held is not None:
                fold(held)
            held = event
            continue
        if held is not None:
            fold(held)
            held = None
        fold(event)
    if held is not None:
        fold(held)
    return count


REPLAY_CHUNK = 4 << 20


def _continues(a: Chunk, b: Chunk) -> bool:
    """b is the next piece of the chunk a was read as (the journal stores big chunks in pieces)."""
    return (a.source, a.stream, a.generation, a.wall, a.mono) == (b.source, b.stream, b.generation, b.wall, b.mono) \
        and not a.partial and a.seq + a.count == b.seq and a.offset + len(a.data) == b.offset


def _joined(a: Chunk, b: Chunk) -> Chunk:
    return Chunk(a.source, a.stream, a.generation, a.offset, a.data + b.data, b.partial, a.wall, a.mono, a.seq,
                 a.count + b.count)


def _first_lines(chunk: Chunk, count: int) -> Chunk:
    """The chunk cut after its first count lines (replay --until SEQ stops inside a chunk)."""
    end = -1
    for _ in range(count):
        end = chunk.data.index(b"\n", end + 1)
    return Chunk(chunk.source, chunk.stream, chunk.generation, chunk.offset, chunk.data[:end + 1], False,
                 chunk.wall, chunk.mono, chunk.seq, count)
