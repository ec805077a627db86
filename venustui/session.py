"""A headless session: sources feed the hub, the parser turns lines into records, the model folds them.

The CLI, the tests and (later) the TUI drive the same object: ``pump`` takes one
batch off the hub and returns what it understood, so nothing here waits on a
screen and nothing here knows of one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from venustui import checkpoint
from venustui.config import Config
from venustui.events import Chunk, Notice, Record, RunEvent
from venustui.ingest import Ingest, Layout
from venustui.model import Model, views
from venustui.parse import Parser
from venustui.readahead import Bounded, ReadAhead
from venustui.sources import SourceSpec, check_spec, open_source
from venustui.sources.hub import Hub
from venustui.sources.watcher import Watcher
from venustui.tuning import return_freed_blocks, tune_gc

if TYPE_CHECKING:
    from venustui.journal import Action, Recorder

STOP_DEADLINE = 3.0  # seconds a stop spends folding what was read before it; the rest is recorded, not folded


class Session:
    def __init__(self, specs: Sequence[SourceSpec], config: Config | None = None, *, follow: bool = True,
                 poll_interval: float = 0.25, recorder: Recorder | None = None):
        self.config = config or Config()
        self.specs = list(specs)
        self.follow = follow
        self.poll_interval = poll_interval
        self.hub = Hub()
        self.parser = Parser(self.config.rules, self.config.mesa_version)
        self.model = Model(self.parser.user_families)
        self.ingest = Ingest(self.parser, self.model)
        self.recorder = recorder
        self.watcher = Watcher() if follow else None
        self.sources: list = []
        self._runner: threading.Thread | None = None
        self._started = False
        self._stopping = threading.Event()
        self.lines_taken = 0  # lines handed over by the sources (recorded, if recording)
        self.folded_through = 0  # the last sequence number folded
        # False once a chunk was folded in pieces (the TUI's fold): a replay folds whole chunks, and what the
        # handle table forgets follows chunk boundaries, so the live state is no closing state for the journal.
        self.folds_whole_chunks = True
        self.lines_unfolded = 0  # of those, lines a stop's deadline left unfolded

    def check(self) -> None:
        """Raise UserError for a source that can never be read (before anything starts)."""
        for spec in self.specs:
            check_spec(spec, self.follow)

    def start(self) -> None:
        self.check()
        self._started = True
        tune_gc()
        if self.follow:  # a live session runs for hours, its line buffers coming and going
            return_freed_blocks()
        journal = (str(self.recorder.path),) if self.recorder is not None else ()
        self.sources = [open_source(spec, self.hub, follow=self.follow, watcher=self.watcher,
                                    poll_interval=self.poll_interval, exclude=journal) for spec in self.specs]
        if self.follow:
            for source in self.sources:
                source.start()
        else:
            # Finite reads go one source after another, so the fold is deterministic.
            self._runner = threading.Thread(target=self._run_in_order, name="sources", daemon=True)
            self._runner.start()

    def _run_in_order(self) -> None:
        for source in self.sources:
            if self._stopping.is_set():
                return
            source.start()
            source.join()

    def _producing(self) -> bool:
        return (self._runner is not None and self._runner.is_alive()) or any(s.alive for s in self.sources)

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
        self._taken(batch)
        return [(event, self.fold(event)) for event in batch]

    def _taken(self, batch) -> None:
        if self.recorder is not None:
            self.recorder.record(batch)
        self.lines_taken += sum(event.count for event in batch if isinstance(event, Chunk))

    def fold(self, event, layout: Layout | None = None) -> list[Record]:
        """The one path every event takes into the model, live or replayed."""
        if isinstance(event, Chunk):
            self.folded_through = max(self.folded_through, event.seq + event.count - 1)
            return self.ingest.fold(event, layout)
        self.folded_through = max(self.folded_through, event.seq)
        self.model.apply(event)
        return []

    def act(self, action: str, **data) -> None:
        """A user action (toggle, rerun, mark): numbered, recorded and folded like everything else."""
        from venustui.journal import Action  # the journal's module loads only when something records

        self.hub.put([Action(action, data, time.time(), time.monotonic())])

    def run_to_end(self, timeout: float = 60.0) -> list[tuple[Chunk | Notice, list[Record]]]:
        """Pump until every source has ended (finite sessions: files without follow, commands)."""
        deadline = time.monotonic() + timeout
        out: list[tuple[Chunk | Notice, list[Record]]] = []
        while not self.finished and time.monotonic() < deadline:
            out.extend(self.pump(0.05))
        out.extend(self.pump(0))
        return out

    def stop(self, deadline: float = STOP_DEADLINE, hurry=None) -> None:
        """Stop the sources and fold what they had read, for deadline seconds at most (or until hurry()
        says so: a second Ctrl-C); what is left then is recorded but not folded (lines_unfolded)."""
        self._stopping.set()
        for source in self.sources:
            source.stop()
        end = time.monotonic() + deadline
        while (self.hub.backlog or self._producing()) and time.monotonic() < end \
                and not (hurry is not None and hurry()):
            self.pump(0.02)
        self.hub.close()  # producers still in put() hand their batch over and end
        for source in self.sources:
            source.join(5)
        if self.watcher is not None:
            self.watcher.close()
        rest = self.hub.take_rest()
        self._taken(rest)
        if time.monotonic() < end and not (hurry is not None and hurry()):
            for event in rest:
                self.fold(event)
        else:
            self.lines_unfolded = sum(event.count for event in rest if isinstance(event, Chunk))
        if self.recorder is not None:
            self.recorder.close(self.closing_state)

    def closing_state(self, last_seq: int) -> bytes | None:
        """The model as the journal's closing state, when it is the state of the events up to last_seq: every one
        folded, whole, and nothing else (checkpoint.py); else None."""
        if last_seq != self.folded_through or not self.folds_whole_chunks:
            return None
        return checkpoint.encode(self.model, self.config, last_seq)

    def adopt(self, model: Model) -> None:
        """Take a model reached elsewhere (a journal's closing state) as this session's."""
        self.model = self.ingest.model = model


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

    speed None replays as fast as possible; otherwise recorded gaps are waited out, divided by
    speed (a number, or a callable read before each event: None from it means no wait).
    until_time is seconds after the first recorded event. Either way the fold gets the chunks
    the live session folded, so it reaches the same state (evictions included)."""
    tune_gc()
    fold_one = fold or session.fold
    events = Bounded(journal.events(until_seq), until_seq, until_time)
    if speed is None and on_event is None:
        ahead = ReadAhead.start(journal, until_seq, until_time, session.ingest) if fold is None else None
        if ahead is not None:
            return ahead.fold_into(session, journal, events)
        for event in events:
            fold_one(event)
        return events.count
    anchor: tuple[float, float] | None = None  # (recorded offset, monotonic time) the pace counts from
    last_rate = None
    for event, offset in events.timed():
        rate = speed() if callable(speed) else speed  # a callable: the pace may change (a seek runs unpaced)
        if rate:
            now = time.monotonic()
            if anchor is None or rate != last_rate:
                anchor = (offset, now)
            delay = anchor[1] + (offset - anchor[0]) / rate - now
            if delay < -1.0:  # far behind (paused, or a slow fold): go on at the recorded pace, don't rush
                anchor, delay = (offset, now), 0.0
            if delay > 0:
                time.sleep(delay)
        last_rate = rate
        records = fold_one(event)
        if on_event is not None:
            on_event(event, records)
    return events.count



@dataclass(frozen=True)
class EndState:
    """How replay_to_end reached a journal's end."""

    stored: bool  # the recorded closing state was taken (else every event was folded)
    note: str = ""  # what to tell the user about it, or ""
    differs: tuple[str, ...] = ()  # with rederive: the model's parts where the fold disagrees with the stored state


def replay_to_end(journal, session: Session, *, rederive: bool = False) -> EndState:
    """Bring the session to the journal's end for a summary or a report: the recorded closing state when it
    fits (checkpoint.py; every frame intact), else by folding every event. With rederive, always fold, and
    compare with the stored state where one fits."""
    stored = journal.closing_state()
    why = "it holds no closing state" if stored is None else \
        checkpoint.unfit(stored, session.config, journal.last_seq()) or (
            "" if journal.intact() else "some of its frames are damaged")
    recorded, note = None, ""
    if not why:
        try:
            recorded = checkpoint.decode(stored)
        except checkpoint.CheckpointError as exc:
            note = f"its recorded closing state was not used ({exc}); every line was folded"
    if recorded is not None and not rederive:
        session.adopt(recorded)
        return EndState(True)
    replay(journal, session)
    if recorded is None:
        return EndState(False, note or (f"every line was folded ({why}): nothing to compare" if rederive else ""))
    stored_parts, folded = views.everything(recorded), views.everything(session.model)
    differs = tuple(part for part in sorted(folded.keys() | stored_parts.keys())
                    if folded.get(part) != stored_parts.get(part))
    if differs:
        return EndState(False, "folding every line again gave another state than the recording session reached, in: "
                        f"{', '.join(differs)} (a venustui bug: please report it with this journal)", differs)
    return EndState(False, "folding every line again gave the state the recording session reached")
