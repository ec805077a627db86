"""How a replay reads a journal: its events bounded by --until, and on two cores for a large one.

``Bounded`` gives a journal's events up to a time or a line number, counted. ``ReadAhead`` is
a helper process (a fork) that reads the journal and lays each chunk out (``ingest.plan``,
parsing included) while this process only folds: chunk bytes cross through a shared ring
buffer whose header (``RingHeader``) says how far the fold has copied and how often it
waited; layouts and every other event cross through a pipe. If the helper stops early, the
replaying process reads the rest itself; the state is the same either way.
"""

from __future__ import annotations

import ctypes
import gc
import marshal
import pickle
import sys
import threading
import time

from venustui.events import Chunk
from venustui.ingest import Ingest, Layout, plan


class RingHeader(ctypes.Structure):
    """The ring buffer's head, shared by the two processes: written by one side each."""

    _fields_ = [
        ("copied", ctypes.c_uint64),  # chunk bytes the fold has copied out (written by the fold)
        ("fold_waits", ctypes.c_uint64),  # how often the fold found nothing ready (written by the fold)
    ]


class Bounded:
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
RING_HEAD = ctypes.sizeof(RingHeader)  # the ring's bytes start after its header


class ReadAhead:
    """A replay on both cores: a helper process (a fork) reads the journal and lays each chunk out
    (ingest.plan, parsing included); this process only folds. Chunk bytes cross through a shared
    ring buffer, their layouts and every other event through a pipe. If the helper stops early,
    this process reads the rest itself."""

    def __init__(self, process, conn, ring):
        self._process, self._conn, self._ring = process, conn, ring
        self._head = RingHeader.from_buffer(ring)

    @classmethod
    def start(cls, journal, until_seq, until_time, ingest: Ingest) -> "ReadAhead | None":
        import fcntl
        import mmap
        import multiprocessing

        if sys.platform != "linux" or journal.path.stat().st_size < READ_AHEAD_BYTES or threading.active_count() > 1:
            return None  # a fork: Linux only (measured faster there), and only safe with one thread
        ring = mmap.mmap(-1, RING_HEAD + RING_BYTES)  # shared with the fork: its header, then the ring
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

    def fold_into(self, session, journal, events: Bounded) -> int:
        """Fold what the helper sends; returns how many journal events were replayed."""
        next_seq = 0  # the first sequence number not folded yet
        try:
            while True:
                try:
                    if not self._conn.poll():  # about to wait: the helper will leave some work to this process
                        self._head.fold_waits += 1
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
                        self._head.copied = at + head[-1]
                    event = _chunk_from(head, data)
                    session.fold(event, Layout.from_bytes(layout, data))
                    next_seq = event.seq + event.count
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
        del self._head  # the ring cannot close while a view of it lives
        self._ring.close()


def _read_ahead(journal, until_seq, until_time, ingest: Ingest, conn, ring) -> None:
    """In the helper (a fork: journal and ingest are copies, the parser continues from the same state)."""
    gc.disable()  # a short-lived process that makes no cycles worth collecting
    shared = RingHeader.from_buffer(ring)
    written = 0  # chunk bytes put in the ring, all told
    fold_waits = 0  # how often the fold had waited when this process last looked
    try:
        found_on_opening = journal.unreadable  # counted by the replaying process already
        events = Bounded(journal.events(until_seq), until_seq, until_time)
        for event in events:
            if not isinstance(event, Chunk):
                conn.send_bytes(marshal.dumps(("event", pickle.dumps(event))))
                continue
            # The fold has waited for this process since the last chunk: it finds this chunk's handle
            # sightings itself, so the two share the work. The state is the same either way.
            waits = shared.fold_waits
            layout = plan(event, parse_all=ingest.parse_all, track_text=ingest.track_text,
                          parser=ingest.parser, find_sightings=waits == fold_waits,
                          classifier=ingest.classifier).to_bytes()
            fold_waits = waits
            size, at, data = len(event.data), None, event.data
            if size <= RING_BYTES:
                while written + size - shared.copied > RING_BYTES:
                    time.sleep(0.001)  # far enough ahead: wait for the fold to copy older chunks out
                _ring_write(ring, written, event.data)
                at, data = written, None
                written += size
            conn.send_bytes(marshal.dumps(("chunk", _chunk_head(event), at, data, layout)))
        conn.send_bytes(marshal.dumps(("end", events.count, journal.unreadable - found_on_opening,
                                        journal.problems)))
    except (OSError, ValueError):  # ValueError: a field marshal cannot carry
        pass  # the replay reads the rest itself
    finally:
        conn.close()


def _chunk_head(chunk: Chunk) -> tuple:
    """A chunk's fields but its bytes, as a plain tuple (marshal carries nothing else); its size last."""
    return (chunk.source, chunk.stream, chunk.generation, chunk.offset, chunk.partial, chunk.wall, chunk.mono,
            chunk.seq, chunk.count, chunk.cut, chunk.overflow, len(chunk.data))


def _chunk_from(head: tuple, data: bytes) -> Chunk:
    source, stream, generation, offset, partial, wall, mono, seq, count, cut, overflow, _ = head
    return Chunk(source, stream, generation, offset, data, partial, wall, mono, seq, count, cut, overflow)


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
