"""A headless session: sources feed the hub, the parser turns lines into records, the model folds them.

The CLI, the tests and (later) the TUI drive the same object: ``pump`` takes one
batch off the hub and returns what it understood, so nothing here waits on a
screen and nothing here knows of one.
"""

from __future__ import annotations

import ctypes
import gc
import marshal
import pickle
import threading
import time
from collections.abc import Iterable, Sequence

from venustui.config import Config
from venustui.events import Chunk, Notice, Record, RunEvent
from venustui.ingest import Ingest, Layout, plan
from venustui.journal import Action, Recorder
from venustui.model import Model
from venustui.parse import Parser
from venustui.sources import SourceSpec, check_spec, open_source
from venustui.sources.hub import Hub
from venustui.sources.watcher import Watcher


_for_screen = False


def tune_gc(screen: bool = False) -> None:
    """A session holds a large, long-lived model and makes many short-lived objects per batch;
    CPython's default thresholds then run full collections often enough to stall the fold for
    100 ms at a time. Our objects rarely form cycles: full collections stay rare. Headless, young
    collections are large and few (throughput); once a screen is up (screen=True, for good) they
    are small and frequent, each under 10 ms (the middle generation is collected every third young
    one: at every tenth, a flood made each take 10-22 ms), so a key never waits behind a long one."""
    global _for_screen
    _for_screen = _for_screen or screen
    gc.set_threshold(*((2_000, 3, 10_000) if _for_screen else (50_000, 20, 1000)))


M_MMAP_THRESHOLD = -3  # mallopt(3)


def return_freed_blocks() -> None:
    """glibc raises its mmap threshold each time it frees a large block (up to 32 MB), so later chunk
    buffers and arrays come from the heap, where freed ones leave holes the heap keeps. A fixed
    threshold keeps blocks of 128 KB and more in mappings of their own, given back when freed: over
    a 10-minute flood the TUI's memory beyond the index and line store grew to 76 MB, not 211 MB.
    Not glibc: nothing to do."""
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


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
        self.model = Model()
        self.ingest = Ingest(self.parser, self.model)
        self.recorder = recorder
        self.watcher = Watcher() if follow else None
        self.sources: list = []
        self._runner: threading.Thread | None = None
        self._started = False
        self._stopping = threading.Event()
        self.lines_taken = 0  # lines handed over by the sources (recorded, if recording)
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
            return self.ingest.fold(event, layout)
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

    speed None replays as fast as possible; otherwise recorded gaps are waited out, divided by
    speed (a number, or a callable read before each event: None from it means no wait).
    until_time is seconds after the first recorded event. Either way the fold gets the chunks
    the live session folded, so it reaches the same state (evictions included)."""
    tune_gc()
    fold_one = fold or session.fold
    events = _Bounded(journal.events(until_seq), until_seq, until_time)
    if speed is None and on_event is None:
        ahead = _ReadAhead.start(journal, until_seq, until_time, session.ingest) if fold is None else None
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


class _Bounded:
    """A journal's events up to --until (a time after the first event, or a line number, cut
    inside a chunk if need be), counted."""

    def __init__(self, events, until_seq: int | None, until_time: float | None):
        self._events = events
        self.until_seq, self.until_time = until_seq, until_time
        self.count = 0

    def timed(self):
        first_mono = None
        for event in self._events:
            first_mono = event.mono if first_mono is None else first_mono
            offset = event.mono - first_mono
            if self.until_time is not None and offset > self.until_time:
                return
            self.count += 1
            until_seq = self.until_seq
            if until_seq is not None and isinstance(event, Chunk) and event.seq + event.count - 1 > until_seq:
                event = _first_lines(event, until_seq - event.seq + 1)
            yield event, offset

    def __iter__(self):
        return (event for event, _ in self.timed())


READ_AHEAD_BYTES = 16 << 20  # smaller journals replay faster than a helper process starts
RING_BYTES = 32 << 20  # chunk bytes the helper may have read ahead of the fold
PIPE_BYTES = 1 << 20  # Linux's default limit for a pipe's buffer (fs.pipe-max-size)
RING_HEAD = 16  # how far the fold has copied, how often it waited


class _ReadAhead:
    """A replay on both cores: a helper process (a fork) reads the journal and lays each chunk out
    (ingest.plan, parsing included); this process only folds. Chunk bytes cross through a shared
    ring buffer, their layouts and every other event through a pipe. If the helper stops early,
    this process reads the rest itself."""

    def __init__(self, process, conn, ring):
        self._process, self._conn, self._ring = process, conn, ring

    @classmethod
    def start(cls, journal, until_seq, until_time, ingest: Ingest) -> "_ReadAhead | None":
        import fcntl
        import mmap
        import multiprocessing

        if journal.path.stat().st_size < READ_AHEAD_BYTES or threading.active_count() > 1:
            return None  # fork is only safe with one thread
        # Shared with the fork: how far the fold has copied (8 bytes), how often it waited (8), the ring.
        ring = mmap.mmap(-1, RING_HEAD + RING_BYTES)
        receive, send = multiprocessing.Pipe(duplex=False)
        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux: a deeper pipe lets the helper run chunks ahead
            try:
                fcntl.fcntl(send.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:
                pass  # a lower limit on this system: the pipe works as it is
        process = multiprocessing.get_context("fork").Process(
            target=_read_ahead, args=(journal, until_seq, until_time, ingest, send, ring), daemon=True)
        process.start()
        send.close()
        return cls(process, receive, ring)

    def fold_into(self, session: Session, journal, events: "_Bounded") -> int:
        """Fold what the helper sends; returns how many journal events were replayed."""
        next_seq = 0  # the first sequence number not folded yet
        try:
            while True:
                try:
                    if not self._conn.poll():  # about to wait: the helper will leave some work to this process
                        waits = int.from_bytes(self._ring[8:16], "little") + 1
                        self._ring[8:16] = waits.to_bytes(8, "little")
                    message = marshal.loads(self._conn.recv_bytes())
                except (EOFError, OSError, ValueError):
                    break  # the helper is gone: read the rest here
                if message[0] == "end":
                    _, count, unreadable, problems = message
                    journal.unreadable += unreadable
                    journal.problems.extend(p for p in problems if p not in journal.problems)
                    return count
                if message[0] == "chunk":
                    _, head, at, data, layout = message
                    if data is None:
                        data = _ring_read(self._ring, at, head[-1])
                        self._ring[:8] = (at + head[-1]).to_bytes(8, "little")
                    source, stream, generation, offset, partial, wall, mono, seq, count, cut, overflow, _ = head
                    event = Chunk(source, stream, generation, offset, data, partial, wall, mono, seq, count, cut,
                                  overflow)
                    session.fold(event, Layout.from_bytes(layout, data))
                    next_seq = seq + count
                else:
                    event = pickle.loads(message[1])
                    session.fold(event)
                    next_seq = event.seq + 1
        finally:
            self.close()
        for event in (e for e in events if e.seq >= next_seq):
            session.fold(event)
        return events.count

    def close(self) -> None:
        self._process.kill()
        self._process.join()
        self._conn.close()
        self._ring.close()


def _read_ahead(journal, until_seq, until_time, ingest: Ingest, conn, ring) -> None:
    """In the helper (a fork: journal and ingest are copies, the parser continues from the same state)."""
    gc.disable()  # a short-lived process that makes no cycles worth collecting
    written = 0  # chunk bytes put in the ring, all told
    fold_waits = 0  # how often the fold had waited when this process last looked
    try:
        found_on_opening = journal.unreadable  # counted by the replaying process already
        events = _Bounded(journal.events(until_seq), until_seq, until_time)
        for event in events:
            if not isinstance(event, Chunk):
                conn.send_bytes(marshal.dumps(("event", pickle.dumps(event))))
                continue
            # The fold has waited for this process since the last chunk: it finds this chunk's handle
            # sightings itself, so the two share the work. The state is the same either way.
            waits = int.from_bytes(ring[8:16], "little")
            layout = plan(event, parse_all=ingest.parse_all, track_text=ingest.track_text,
                          parser=ingest.parser, find_sightings=waits == fold_waits).to_bytes()
            fold_waits = waits
            size, at, data = len(event.data), None, event.data
            if size <= RING_BYTES:
                while written + size - int.from_bytes(ring[:8], "little") > RING_BYTES:
                    time.sleep(0.001)  # far enough ahead: wait for the fold to copy older chunks out
                _ring_write(ring, written, event.data)
                at, data = written, None
                written += size
            head = (event.source, event.stream, event.generation, event.offset, event.partial, event.wall,
                    event.mono, event.seq, event.count, event.cut, event.overflow, size)
            conn.send_bytes(marshal.dumps(("chunk", head, at, data, layout)))
        conn.send_bytes(marshal.dumps(("end", events.count, journal.unreadable - found_on_opening,
                                        journal.problems)))
    except (OSError, ValueError):  # ValueError: a field marshal cannot carry
        pass  # the replay reads the rest itself
    finally:
        conn.close()


def _ring_write(ring, at: int, data: bytes) -> None:
    """data at absolute position at of the ring (after its header), wrapping at the end."""
    start = at % RING_BYTES
    first = min(len(data), RING_BYTES - start)
    view = memoryview(data)
    ring[RING_HEAD + start:RING_HEAD + start + first] = view[:first]
    if first < len(data):
        ring[RING_HEAD:RING_HEAD + len(data) - first] = view[first:]


def _ring_read(ring, at: int, size: int) -> bytes:
    start = at % RING_BYTES
    first = min(size, RING_BYTES - start)
    data = ring[RING_HEAD + start:RING_HEAD + start + first]
    return data + ring[RING_HEAD:RING_HEAD + size - first] if first < size else data


def _first_lines(chunk: Chunk, count: int) -> Chunk:
    """The chunk cut after its first count lines (replay --until SEQ stops inside a chunk)."""
    end = -1
    for _ in range(count):
        end = chunk.data.index(b"\n", end + 1)
    return Chunk(chunk.source, chunk.stream, chunk.generation, chunk.offset, chunk.data[:end + 1], False,
                 chunk.wall, chunk.mono, chunk.seq, count)
