"""Recording a session to one append-only file, and reading it back.

Longer than 500 lines: the writer and the reader of one file format stay side by side, so a
change to a frame's layout is made, and reviewed, in one place.

What is kept is what cannot be derived: raw chunks exactly as read (per source and
stream, with offsets and arrival times), notices, runner events and user actions,
and a header. Records and findings are re-derived on replay by the same fold, so a
journal stays small and lossless for any bytes.

The file is the magic line, then frames, each one self-contained: a fixed head (kind,
sequence number, line count, offsets, times, the payload's CRC-32 and the head's own),
the source and stream names, the payload (a piece of a chunk's bytes exactly, or an
event as JSON). A background thread appends what arrived at least every 250 ms, in one
write call per batch. So a crash loses at most the last batch; a copy taken while
recording, or a file cut short, reads up to its last whole frame; damaged bytes cost
the frames they touch, found by their checksums, and reading resumes at the next
frame whose head checks out. A write that fails (disk full, file size limit, a path
that went away) stops the recording, not the session: the file is cut back to its
last whole frame and a status frame says where it stopped, if the disk takes that.
"""

from __future__ import annotations

import json
import mmap
import os
import platform
import queue
import struct
import threading
import time
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venustui import __version__
from venustui import events as ev
from venustui.errors import UserError

FORMAT_VERSION = 4  # 3: append-only frames (1 and 2 were SQLite files); 4: cut lines and overflow, header twice
FILE_MAGIC = b"venustui journal\n"
FLUSH_INTERVAL = 0.25
# A chunk is one frame up to this size: a file source reads 1 MiB at a time, so its chunks are not cut
# (cutting costs a pass to count each piece's lines). Damaged bytes cost the frames they touch.
PIECE_BYTES = 2 << 20
WRITE_PARTS = 1020  # buffers per writev call (IOV_MAX is 1024)

# magic, kind, chunk flags, meta length, payload length, seq, count, generation, offset, wall, mono, payload CRC,
# then the head's own CRC (over the fields before it and the meta bytes).
FRAME = struct.Struct("<4sBBHIqqqqddII")
FRAME_MAGIC = b"\xf5VTJ"
CHUNK, NOTICE, RUN, ACTION, HEADER, STATUS = range(1, 7)
PARTIAL, CUT, OVERFLOW, CONTINUES = 1, 2, 4, 8  # a chunk frame's flags (CONTINUES: the previous frame's chunk)
# A status frame's key for the closing state: a status frame, so a venustui that predates it reads the journal
# as before (it keeps unknown status keys and uses none of them).
CHECKPOINT = "checkpoint"


@dataclass(slots=True)
class Action:
    """Something the user did (toggle a flag, rerun, mark a line): recorded like any event."""

    name: str
    data: dict[str, Any]
    wall: float
    mono: float
    seq: int = 0


def _frame(kind: int, payload, *, meta: bytes = b"", flags: int = 0, seq: int = 0, count: int = 0,
           generation: int = 0, offset: int = 0, wall: float = 0.0, mono: float = 0.0) -> bytes:
    """A frame's head and meta bytes (the payload follows them as it is)."""
    head = FRAME.pack(FRAME_MAGIC, kind, flags, len(meta), len(payload), seq, count, generation, offset, wall,
                      mono, zlib.crc32(payload), 0)[:-4]
    return head + zlib.crc32(meta, zlib.crc32(head)).to_bytes(4, "little") + meta


def _event_body(event) -> tuple[int, bytes]:
    if isinstance(event, ev.Notice):
        return NOTICE, json.dumps({"source": event.source, "stream": event.stream, "kind": event.kind,
                                   "message": event.message, "detail": event.detail}).encode()
    if isinstance(event, ev.RunEvent):
        return RUN, json.dumps({"kind": event.kind, "run": event.run, "data": event.data}).encode()
    if isinstance(event, Action):
        return ACTION, json.dumps({"name": event.name, "data": event.data}).encode()
    raise TypeError(type(event))


def _names(source: str, stream: str) -> bytes:
    return f"{source}\0{stream}".encode("utf-8", "surrogatepass")


class Recorder:
    """Appends events to a journal from a background thread; never blocks or fails the session."""

    def __init__(self, path: str | os.PathLike[str], *, sources=(), config: dict | None = None,
                 max_bytes: int | None = None, force: bool = False):
        self.path = Path(path)
        _refuse_overwriting(self.path, sources, force)
        self.max_bytes = max_bytes
        self.stopped: str = ""  # why recording stopped early, or ""
        self.gapless = True  # every event taken was recorded: never paused (a closing state describes the journal)
        self._paused = False
        self.last_seq = 0  # the last sequence number recorded
        self.lines_written = 0
        self.bytes_written = 0  # chunk bytes recorded
        self._queue: queue.Queue = queue.Queue()
        self._done = threading.Event()
        self._names: dict[tuple[str, str], bytes] = {}
        header = {
            "format_version": str(FORMAT_VERSION), "venustui_version": __version__,
            "host": platform.node(), "python": platform.python_version(),
            "start_time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "start_wall": repr(time.time()),
            "start_mono": repr(time.monotonic()),
            "sources": json.dumps([s.describe() if hasattr(s, "describe") else str(s) for s in sources]),
            "config": json.dumps(config or {}, default=str),
        }
        payload = json.dumps(header).encode()
        # Two copies: a damaged byte in one leaves the other (the first frames hold nothing else).
        first = FILE_MAGIC + (_frame(HEADER, payload) + payload) * 2
        self._fd = -1
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            if os.write(self._fd, first) != len(first):
                raise OSError(28, "disk full")
        except OSError as exc:
            if self._fd >= 0:
                os.close(self._fd)
            raise UserError(f"cannot record to {self.path}: {_reason(exc)} (choose a writable path with -o)") from None
        self._size = len(first)  # bytes of whole frames in the file
        self._thread = threading.Thread(target=self._run, name="journal", daemon=True)
        self._thread.start()

    @property
    def paused(self) -> bool:
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        self._paused = value
        self.gapless = self.gapless and not value

    def record(self, events) -> None:
        """Queue events (chunks, notices, runner events, actions) in sequence order."""
        if self.stopped or self.paused or not events:
            return
        self._queue.put(list(events))

    def _run(self) -> None:
        pending: list = []
        next_flush = time.monotonic() + FLUSH_INTERVAL
        while True:
            timeout = max(0.0, next_flush - time.monotonic())
            try:
                batch = self._queue.get(timeout=timeout)
            except queue.Empty:
                batch = None
            if batch is not None:
                pending.extend(batch)
            closing = batch is None and self._done.is_set() and self._queue.empty()
            if pending and (time.monotonic() >= next_flush or closing or len(pending) > 50_000):
                try:
                    self._write(pending)
                except Exception as exc:  # a bug here must not pass for a whole recording
                    self._stop(f"cannot record {type(exc).__name__}: {exc} at seq {self.last_seq + 1}")
                pending = []
            if time.monotonic() >= next_flush:
                next_flush = time.monotonic() + FLUSH_INTERVAL
            if closing:
                return

    def _write(self, events: list) -> None:
        if self.stopped:
            return
        parts: list = []
        frames: list[tuple[int, int, int, int]] = []  # each frame: the file's size after it, its last seq, lines, bytes
        end = self._size
        for event in events:
            if isinstance(event, ev.Chunk):
                key = (event.source, event.stream)
                names = self._names.get(key) or self._names.setdefault(key, _names(*key))
                view = memoryview(event.data)
                for start, stop, seq, count, last in _spans(event, PIECE_BYTES):
                    piece = view[start:stop]
                    flags = (OVERFLOW if event.overflow else 0) | (CONTINUES if start else 0) | (
                        (PARTIAL if event.partial else 0) | (CUT if event.cut else 0) if last else 0)
                    head = _frame(CHUNK, piece, meta=names, flags=flags, seq=seq, count=count,
                                  generation=event.generation, offset=event.offset + start, wall=event.wall,
                                  mono=event.mono)
                    parts += (head, piece)
                    end += len(head) + len(piece)
                    frames.append((end, seq + count - 1, count, len(piece)))
            else:
                kind, body = _event_body(event)
                head = _frame(kind, body, seq=event.seq, wall=event.wall, mono=event.mono)
                parts += (head, body)
                end += len(head) + len(body)
                frames.append((end, event.seq, 0, 0))
        size = sum(f[3] for f in frames)
        if self.max_bytes is not None and self.bytes_written + size > self.max_bytes:
            self._stop(f"size cap of {self.max_bytes} bytes reached at seq {self.last_seq + 1}")
            return
        written = 0
        try:
            for at in range(0, len(parts), WRITE_PARTS):
                group = parts[at:at + WRITE_PARTS]
                want = sum(len(p) for p in group)
                done = os.writev(self._fd, group)
                written += done
                while done < want:  # a short write: the rest, or the error that cut it short
                    more = os.write(self._fd, b"".join(group)[done:])
                    done += more
                    written += more
        except OSError as exc:
            self._count([f for f in frames if f[0] <= self._size + written])
            self._stop(f"{_reason(exc)} at seq {self.last_seq + 1}")
            return
        self._count(frames)

    def _count(self, frames: list[tuple[int, int, int, int]]) -> None:
        """Whole frames written: where the file ends, the last sequence number, lines and bytes recorded."""
        if frames:
            self._size = frames[-1][0]
            self.last_seq = max(self.last_seq, max(f[1] for f in frames))
            self.lines_written += sum(f[2] for f in frames)
            self.bytes_written += sum(f[3] for f in frames)

    def _status(self, key: str, value: str | bytes) -> None:
        payload = value.encode() if isinstance(value, str) else value
        # Numbered after the last frame, so damage just before it is counted exactly.
        frame = _frame(STATUS, payload, meta=key.encode(), seq=self.last_seq + 1) + payload
        os.ftruncate(self._fd, self._size)  # a frame cut short by the failed write goes
        if os.pwrite(self._fd, frame, self._size) != len(frame):  # a full disk takes part of it
            os.ftruncate(self._fd, self._size)
            raise OSError(28, "disk full")
        self._size += len(frame)

    def _stop(self, reason: str) -> None:
        self.stopped = reason
        try:
            self._status("stopped", reason)
        except OSError:
            pass  # the disk that refused the data refuses this too; the last whole frame still tells where

    def close(self, closing_state: Callable[[int], bytes | None] | None = None) -> None:
        """Write what is queued, then the closing state (closing_state(last seq): the session's model once
        it folded every recorded event; see checkpoint.py), mark the journal closed, close (again: nothing)."""
        if self._fd < 0:
            return
        self._done.set()
        self._queue.put(None)  # wake the writer
        self._thread.join(30)
        try:
            if not self.stopped and closing_state is not None and self.gapless and not self._thread.is_alive():
                self._closing_state(closing_state)
            if not self.stopped:
                self._status("closed", repr(time.time()))
        except OSError as exc:
            self.stopped = f"{_reason(exc)} while closing"
        finally:
            os.close(self._fd)
            self._fd = -1

    def _closing_state(self, closing_state: Callable[[int], bytes | None]) -> None:
        """Append the closing state where there is one; a failure to make or write it loses nothing else."""
        try:
            state = closing_state(self.last_seq)
        except Exception as exc:  # a state that cannot be made only means a replay folds every line (as before it)
            state, why = None, f"{type(exc).__name__}: {exc}"  # said in the journal, for whoever wonders
        else:
            why = "over the size cap" if state is not None and self.max_bytes is not None \
                and self.bytes_written + len(state) > self.max_bytes else ""
        try:
            if why:
                self._status("no closing state", why)
            elif state is not None:
                self._status(CHECKPOINT, state)
        except OSError:
            return  # a full disk: only the closing state is missing (every frame is whole); "closed" is tried next


def _refuse_overwriting(path: Path, sources, force: bool) -> None:
    """A journal never replaces one of its own sources (or a hard link of one), nor, without force, a file
    that is not a journal: either would destroy the bytes it was meant to keep."""
    try:
        st = path.stat()
    except OSError:
        return  # nothing there yet (or nothing we could destroy): opening it says what is wrong
    for spec in sources:
        source = getattr(spec, "path", "")
        if getattr(spec, "kind", "") != "file" or not source:
            continue
        try:
            same = os.path.samefile(source, path)
        except OSError:
            continue
        if same:
            raise UserError(f"{path}: is the source {source} itself; recording there would destroy it "
                            "(give -o another file)")
    if not force and st.st_size and path.is_file():
        with open(path, "rb") as existing:
            if existing.read(len(FILE_MAGIC)) != FILE_MAGIC:
                raise UserError(f"{path}: exists and is not a venustui journal; refusing to overwrite it "
                                "(give -o another file, or --force to replace it)")


def _spans(chunk: ev.Chunk, size: int) -> Iterator[tuple[int, int, int, int, bool]]:
    """A chunk cut into runs of whole lines of about size bytes: (start, end, first seq, line count, last)."""
    data = chunk.data
    if len(data) <= size:
        yield 0, len(data), chunk.seq, chunk.count, True
        return
    start, seq = 0, chunk.seq
    while start < len(data):
        cut = data.find(b"\n", start + size - 1)
        end = len(data) if cut < 0 else cut + 1
        if end == len(data):  # the last run has the lines not counted yet
            yield start, end, seq, chunk.count - (seq - chunk.seq), True
            return
        count = 0 if chunk.overflow else data.count(b"\n", start, end)
        yield start, end, seq, count, False
        seq += count
        start = end


def pieces(chunk: ev.Chunk, size: int):
    """A chunk as consecutive chunks of whole lines of about size bytes (folding them is the same)."""
    if len(chunk.data) <= size:
        yield chunk
        return
    for start, end, seq, count, last in _spans(chunk, size):
        yield ev.Chunk(chunk.source, chunk.stream, chunk.generation, chunk.offset + start, chunk.data[start:end],
                       chunk.partial and last, chunk.wall, chunk.mono, seq, count, chunk.cut and last, chunk.overflow)


def _reason(exc: BaseException) -> str:
    if getattr(exc, "errno", None) in (27, 28):  # EFBIG, ENOSPC
        return "disk full or file size limit reached"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


@dataclass
class Journal:
    """A journal opened for reading: its frames found once (damage and a cut end noted), read on demand."""

    path: Path
    header: dict[str, str]
    status: dict[str, str]
    unreadable: int = 0  # recorded items (lines and events) that could not be read
    problems: list[str] = field(default_factory=list)
    _map: Any = field(default=None, repr=False)
    _frames: array = field(default_factory=lambda: array("q"), repr=False)  # where each whole frame starts
    _last_seq: int = 0
    _checkpoint: tuple[int, int] | None = None  # where the closing state's payload lies, if intact and last

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Journal":
        path = Path(path)
        if not path.exists():
            raise UserError(f"{path}: no such journal (record one with venustui record -o {path} SOURCE…)")
        if path.is_dir():
            raise UserError(f"{path}: is a directory, not a journal")
        try:
            with open(path, "rb") as f:
                start = f.read(MAGIC_SEARCH)
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if _looks_like_journal(start) else None
        except OSError as exc:
            raise UserError(f"{path}: cannot read it: {_reason(exc)}") from None
        if data is None:
            if start.startswith(b"SQLite format 3"):
                raise UserError(f"{path}: a journal in the older SQLite format (1 or 2), which this venustui no "
                                f"longer reads: replay it with the venustui that recorded it")
            raise UserError(f"{path}: not a venustui journal (it does not start with {FILE_MAGIC[:-1].decode()!r})")
        journal = cls(path, {}, {}, _map=data)
        if not start.startswith(FILE_MAGIC):
            journal.problems.append("damaged file marker at its start; its frames were read")
        journal._scan()
        if not str(journal.header.get("format_version", "")).isdigit():
            # Both copies damaged: the frames carry everything a replay needs; only the header's facts
            # (host, start time, sources, config) are missing.
            journal.header = {"format_version": str(FORMAT_VERSION)}
            journal.problems.append("damaged header (both copies): host, start time and sources unknown")
        if int(journal.header["format_version"]) > FORMAT_VERSION:
            data.close()
            raise UserError(f"{path}: journal format {journal.header['format_version']} is newer than this "
                            f"venustui reads ({FORMAT_VERSION}): upgrade venustui")
        return journal

    def _scan(self) -> None:
        """Find every whole frame; read the header and status frames; count what damage and a cut end lost."""
        data = self._map
        pos = len(FILE_MAGIC) if data[:len(FILE_MAGIC)] == FILE_MAGIC else data.find(FRAME_MAGIC)
        expected = 1  # the sequence number the next frame should start at (a session numbers from 1)
        damaged_at = None  # where unreadable bytes began, while looking for the next frame
        while pos < len(data):
            head = _head(data, pos)
            if head is None:
                found = data.find(FRAME_MAGIC, pos + 1) if pos + FRAME.size <= len(data) else -1
                if found < 0:
                    self._lost_at_end(pos if damaged_at is None else damaged_at)
                    return
                damaged_at = pos if damaged_at is None else damaged_at
                pos = found
                continue
            kind, meta_len, size, seq, count = head[1], head[3], head[4], head[5], head[6]
            end = pos + FRAME.size + meta_len + size
            if end > len(data):
                self._lost_at_end(pos if damaged_at is None else damaged_at, count if kind == CHUNK else 1)
                return
            if damaged_at is not None:
                if kind == HEADER:  # what was damaged is the header's first copy
                    self.problems.append(f"damaged bytes {damaged_at}-{pos}: a copy of the header (the other "
                                         "was read)")
                else:  # the numbers skipped are what was lost (a frame that takes none: bytes of a cut line)
                    lost = seq - expected
                    self.unreadable += lost
                    self.problems.append(f"damaged bytes {damaged_at}-{pos}: {lost} recorded item(s) lost"
                                         if lost else f"damaged bytes {damaged_at}-{pos}: overflow bytes of a cut "
                                         "line (no line lost)")
                damaged_at = None
            if kind in (HEADER, STATUS):
                payload = data[end - size:end]
                if zlib.crc32(payload) != head[11]:
                    if kind == STATUS:
                        self.problems.append(f"damaged status at byte {pos}")
                elif kind == HEADER:
                    try:
                        self.header = self.header or dict(json.loads(payload))
                    except (ValueError, TypeError):
                        pass  # the other copy, or the frames alone
                else:
                    key = data[pos + FRAME.size:end - size].decode("utf-8", "replace")
                    if key == CHECKPOINT:
                        self._checkpoint = (end - size, end)
                    else:
                        self.status[key] = payload.decode("utf-8", "replace")
            else:
                self._frames.append(pos)
                self._checkpoint = None  # a closing state describes the frames before it only
                expected = seq + (max(count, 1) if kind == CHUNK else 1)
                # As the hub numbers them: a chunk of no line (overflow bytes) takes no number.
                self._last_seq = max(self._last_seq, seq + count - 1 if kind == CHUNK else seq)
            pos = end

    def _lost_at_end(self, pos: int, items: int = 1) -> None:
        self.unreadable += max(items, 1)
        self.problems.append(f"cut short: the last {len(self._map) - pos} bytes are an incomplete record "
                             f"(copied while being written, or the disk filled)")

    def events(self, until_seq: int | None = None) -> Iterator:
        """Everything recorded, in sequence order, each chunk as it was read (a long one's frames joined
        again, so a replay folds the chunks the live session folded); frames whose bytes fail their
        checksum are skipped and counted."""
        read: list[ev.Chunk] = []  # frames of one read so far
        flagged = int(self.header.get("format_version", FORMAT_VERSION)) >= 4  # older ones: judged by their heads
        for event, continues in self._frames_read(until_seq):
            if read and isinstance(event, ev.Chunk) and (
                    continues and read[-1].offset + len(read[-1].data) == event.offset if flagged
                    else _continues(read[-1], event)):
                read.append(event)
                continue
            if read:
                yield _joined(read)
                read = []
            if isinstance(event, ev.Chunk):
                read.append(event)
            else:
                yield event
        if read:
            yield _joined(read)

    def _frames_read(self, until_seq: int | None) -> Iterator:
        data = self._map
        for pos in self._frames:
            (_, kind, flags, meta_len, size, seq, count, generation, offset, wall, mono, crc,
             _) = FRAME.unpack_from(data, pos)
            if until_seq is not None and seq > until_seq:
                return
            start = pos + FRAME.size + meta_len
            payload = data[start:start + size]
            if zlib.crc32(payload) != crc:
                self.unreadable += count if kind == CHUNK else 1
                if not any(p.startswith("damaged data") for p in self.problems):
                    self.problems.append("damaged data: a stored record fails its checksum")
                continue
            if kind == CHUNK:
                source, _, stream = data[pos + FRAME.size:start].decode("utf-8", "surrogatepass").rpartition("\0")
                yield ev.Chunk(source, stream, generation, offset, payload, bool(flags & PARTIAL), wall, mono, seq,
                               count, bool(flags & CUT), bool(flags & OVERFLOW)), bool(flags & CONTINUES)
                continue
            event = _event(kind, payload, wall, mono, seq)
            if event is None:
                self.unreadable += 1
            else:
                yield event, False

    def last_seq(self) -> int:
        """The highest sequence number recorded (0 when nothing was)."""
        return self._last_seq

    def closing_state(self) -> bytes | None:
        """The closing state's payload (checkpoint.py reads it), when the recording stored one, intact, after
        its last frame."""
        if self._checkpoint is None:
            return None
        start, end = self._checkpoint
        return self._map[start:end]

    def intact(self) -> bool:
        """Every frame reads back as recorded (a pass over their checksums; a replay reports what was lost)."""
        if self.unreadable or self.problems:
            return False
        data = self._map
        with memoryview(data) as view:  # no copy of each payload; released before the map may close
            for pos in self._frames:
                head = FRAME.unpack_from(data, pos)
                start = pos + FRAME.size + head[3]
                if zlib.crc32(view[start:start + head[4]]) != head[11]:
                    return False
        return True

    def close(self) -> None:
        self._map.close()


MAGIC_SEARCH = 4096  # how far into a file whose marker is damaged the first frame is looked for


def _looks_like_journal(start: bytes) -> bool:
    """The file marker, or (the marker damaged) a frame head that checks out near the start."""
    if start.startswith(FILE_MAGIC):
        return True
    at = start.find(FRAME_MAGIC)
    return 0 <= at and _head(start, at) is not None


def _continues(a: ev.Chunk, b: ev.Chunk) -> bool:
    """b is the next frame of the chunk a was read as."""
    return (a.source, a.stream, a.generation, a.wall, a.mono, a.overflow) == \
        (b.source, b.stream, b.generation, b.wall, b.mono, b.overflow) \
        and not a.partial and a.seq + a.count == b.seq and a.offset + len(a.data) == b.offset


def _joined(frames: list[ev.Chunk]) -> ev.Chunk:
    if len(frames) == 1:
        return frames[0]
    first, last = frames[0], frames[-1]
    return ev.Chunk(first.source, first.stream, first.generation, first.offset, b"".join(f.data for f in frames),
                    last.partial, first.wall, first.mono, first.seq, sum(f.count for f in frames), last.cut,
                    first.overflow)


def _head(data, pos: int) -> tuple | None:
    """The frame head at pos, or None where no whole, intact head is."""
    if data[pos:pos + 4] != FRAME_MAGIC or pos + FRAME.size > len(data):
        return None
    head = FRAME.unpack_from(data, pos)
    meta_end = pos + FRAME.size + head[3]
    if meta_end > len(data) or zlib.crc32(data[pos + FRAME.size:meta_end],
                                          zlib.crc32(data[pos:pos + FRAME.size - 4])) != head[12]:
        return None
    return head


def _event(kind: int, payload: bytes, wall: float, mono: float, seq: int):
    try:
        data = json.loads(payload)
        if kind == NOTICE:
            return ev.Notice(data["source"], data["stream"], data["kind"], data["message"], wall, mono, seq,
                             data.get("detail", {}))
        if kind == RUN:
            return ev.RunEvent(data["kind"], data["run"], data["data"], wall, mono, seq)
        if kind == ACTION:
            return Action(data["name"], data["data"], wall, mono, seq)
    except (ValueError, KeyError, TypeError):
        pass
    return None


def export_rows(journal: Journal) -> Iterator[dict[str, Any]]:
    """The journal as JSON-ready dicts: the header (with its status), then one per recorded event."""
    import base64

    yield {"type": "header", **journal.header, "status": journal.status}
    for event in journal.events():
        if isinstance(event, ev.Chunk):
            yield {"type": "chunk", "seq": event.seq, "source": event.source, "stream": event.stream,
                   "generation": event.generation, "offset": event.offset, "lines": event.count,
                   "partial": event.partial, "wall": event.wall, "mono": event.mono,
                   "text": event.data.decode("utf-8", "replace"),
                   "data_base64": base64.b64encode(event.data).decode()}
        elif isinstance(event, ev.Notice):
            yield {"type": "notice", "seq": event.seq, "source": event.source, "stream": event.stream,
                   "kind": event.kind, "message": event.message, "wall": event.wall}
        elif isinstance(event, ev.RunEvent):
            yield {"type": "run", "seq": event.seq, "kind": event.kind, "run": event.run, "data": event.data,
                   "wall": event.wall}
        else:
            assert isinstance(event, Action)
            yield {"type": "action", "seq": event.seq, "name": event.name, "data": event.data, "wall": event.wall}
