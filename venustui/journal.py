"""Recording a session to one SQLite file, and reading it back.

What is kept is what cannot be derived: raw chunks exactly as read (per source and
stream, with offsets and arrival times), notices, runner events and user actions,
and a header. Records and findings are re-derived on replay by the same fold, so a
journal stays small and lossless for any bytes.

Writes happen on a background thread in batched transactions at least every 250 ms,
straight into the file under a rollback journal (a crash loses at most the last batch;
a copy taken while recording holds every batch before it, and one taken in the middle
of a batch reads as far as it goes). WAL mode would write every byte twice, once to
the log and once at each checkpoint: a third of the recording's cost. A write that fails (disk full, file
size limit, a path that went away) stops the recording, not the session: the
journal's status row says where it stopped when it can still be written.
"""

from __future__ import annotations

import json
import os
import platform
import queue
import shutil
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venustui import __version__
from venustui import events as ev
from venustui.errors import UserError

FORMAT_VERSION = 2  # 2: chunks carry a CRC-32 of their bytes
FLUSH_INTERVAL = 0.25
PAGE = 64  # rows per query: up to 4 MiB of chunk pieces, read in even steps
FIRST_PAGE = 8
ROW_BYTES = 64 << 10  # chunks are stored in pieces of about this size: a damaged journal loses little
TRANSACTION_BYTES = 1 << 20  # a full disk keeps every transaction before it
PAGE_SIZE = 16384

SCHEMA = """
CREATE TABLE IF NOT EXISTS header (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (seq INTEGER PRIMARY KEY, source TEXT, stream TEXT, generation INTEGER,
    offset INTEGER, partial INTEGER, wall REAL, mono REAL, count INTEGER, data BLOB, crc INTEGER);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, kind TEXT, wall REAL, mono REAL, body TEXT);
CREATE TABLE IF NOT EXISTS status (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(slots=True)
class Action:
    """Something the user did (toggle a flag, rerun, mark a line): recorded like any event."""

    name: str
    data: dict[str, Any]
    wall: float
    mono: float
    seq: int = 0


def _event_row(event) -> tuple:
    if isinstance(event, ev.Notice):
        body = {"source": event.source, "stream": event.stream, "kind": event.kind, "message": event.message,
                "detail": event.detail}
        return event.seq, "notice", event.wall, event.mono, json.dumps(body)
    if isinstance(event, ev.RunEvent):
        return event.seq, "run", event.wall, event.mono, json.dumps({"kind": event.kind, "run": event.run,
                                                                     "data": event.data})
    if isinstance(event, Action):
        return event.seq, "action", event.wall, event.mono, json.dumps({"name": event.name, "data": event.data})
    raise TypeError(type(event))


class Recorder:
    """Appends events to a journal from a background thread; never blocks or fails the session."""

    def __init__(self, path: str | os.PathLike[str], *, sources=(), config: dict | None = None,
                 max_bytes: int | None = None):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.stopped: str = ""  # why recording stopped early, or ""
        self.paused = False
        self.last_seq = 0
        self.bytes_written = 0
        self._queue: queue.Queue = queue.Queue()
        self._done = threading.Event()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            # 16 KiB pages: a 64 KiB piece spans 5 pages instead of 17 (recording costs a third less). Larger
            # pages make cut-short copies lose more: a b-tree page allocated late holds more of the early rows.
            self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            self._db.execute("PRAGMA journal_mode=DELETE")
            # No fsync: a crash of venustui, QEMU or the host's driver loses nothing committed; an OS
            # crash may lose what the kernel had not written back (torn pages read as damaged rows).
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.executescript(SCHEMA)
            header = {
                "format_version": str(FORMAT_VERSION), "venustui_version": __version__,
                "host": platform.node(), "python": platform.python_version(),
                "start_time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "start_wall": repr(time.time()),
                "start_mono": repr(time.monotonic()),
                "sources": json.dumps([getattr(s, "describe", lambda: str(s))() for s in sources]),
                "config": json.dumps(config or {}, default=str),
            }
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO header VALUES (?, ?)", header.items())
        except (sqlite3.Error, OSError) as exc:
            raise UserError(f"cannot record to {self.path}: {_reason(exc)} (choose a writable path with -o)") from None
        self._thread = threading.Thread(target=self._run, name="journal", daemon=True)
        self._thread.start()

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
                self._write(pending)
                pending = []
            if time.monotonic() >= next_flush:
                next_flush = time.monotonic() + FLUSH_INTERVAL
            if closing:
                return

    def _write(self, events: list) -> None:
        """Write in transactions of about a megabyte, so a full disk keeps everything before it."""
        batch: list = []
        size = 0
        for event in events:
            batch.append(event)
            size += len(event.data) if isinstance(event, ev.Chunk) else 0
            if size >= TRANSACTION_BYTES:
                self._transaction(batch)
                batch, size = [], 0
        if batch:
            self._transaction(batch)

    def _transaction(self, events: list) -> None:
        if self.stopped:
            return
        chunks = []
        others = []
        size = 0
        for event in events:
            if isinstance(event, ev.Chunk):
                chunks.extend(_piece_rows(event))
                size += len(event.data)
            else:
                others.append(_event_row(event))
        if self.max_bytes is not None and self.bytes_written + size > self.max_bytes:
            self._stop(f"size cap of {self.max_bytes} bytes reached at seq {self.last_seq}")
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?)", chunks)
                self._db.executemany("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?)", others)
        except (sqlite3.Error, OSError) as exc:
            self._stop(f"{_reason(exc)} at seq {self.last_seq + 1}")
            return
        self.bytes_written += size
        self.last_seq = max([self.last_seq] + [e.seq for e in events])

    def _stop(self, reason: str) -> None:
        self.stopped = reason
        try:
            with self._db:
                self._db.execute("INSERT OR REPLACE INTO status VALUES ('stopped', ?)", (reason,))
        except (sqlite3.Error, OSError):
            pass  # the disk that refused the data refuses this too; last_seq still tells where

    def close(self) -> None:
        """Write what is queued, mark the journal closed, close."""
        self._done.set()
        self._queue.put(None)  # wake the writer
        self._thread.join(30)
        try:
            if not self.stopped:
                with self._db:
                    self._db.execute("INSERT OR REPLACE INTO status VALUES ('closed', ?)", (repr(time.time()),))
        except (sqlite3.Error, OSError) as exc:
            if not self.stopped:
                self.stopped = f"{_reason(exc)} while closing"
        finally:
            self._db.close()


def _spans(chunk: ev.Chunk, size: int) -> Iterator[tuple[int, int, int, int, bool]]:
    """A chunk cut into runs of whole lines of about size bytes: (start, end, first seq, line count, partial)."""
    data = chunk.data
    if len(data) <= size:
        yield 0, len(data), chunk.seq, chunk.count, chunk.partial
        return
    start, seq = 0, chunk.seq
    while start < len(data):
        cut = data.find(b"\n", start + size - 1)
        end = len(data) if cut < 0 else cut + 1
        partial = chunk.partial and end == len(data)
        count = data.count(b"\n", start, end) + (1 if partial else 0)
        yield start, end, seq, count, partial
        seq += count
        start = end


def _piece_rows(chunk: ev.Chunk) -> Iterator[tuple]:
    """A chunk's rows: pieces of about ROW_BYTES, as views of its bytes (no copies)."""
    view = memoryview(chunk.data)
    for start, end, seq, count, partial in _spans(chunk, ROW_BYTES):
        piece = view[start:end]
        yield (seq, chunk.source, chunk.stream, chunk.generation, chunk.offset + start, int(partial), chunk.wall,
               chunk.mono, count, piece, zlib.crc32(piece))


def pieces(chunk: ev.Chunk, size: int = ROW_BYTES):
    """A chunk as consecutive chunks of whole lines of about size bytes (folding them is the same)."""
    if len(chunk.data) <= size:
        yield chunk
        return
    for start, end, seq, count, partial in _spans(chunk, size):
        yield ev.Chunk(chunk.source, chunk.stream, chunk.generation, chunk.offset + start, chunk.data[start:end],
                       partial, chunk.wall, chunk.mono, seq, count)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "disk is full" in text or "too large" in text or getattr(exc, "errno", None) == 27:
        return "disk full or file size limit reached"
    if "disk I/O error" in text:
        return "disk I/O error (a full disk or a file size limit does this too)"
    return text


@dataclass
class Journal:
    """A journal opened for reading."""

    path: Path
    header: dict[str, str]
    status: dict[str, str]
    unreadable: int = 0
    problems: list[str] = field(default_factory=list)
    readable: Path | None = None  # the file read: path, or a padded copy of it when cut short

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Journal":
        path = Path(path)
        if not path.exists():
            raise UserError(f"{path}: no such journal (record one with venustui record -o {path} SOURCE…)")
        if path.is_dir():
            raise UserError(f"{path}: is a directory, not a journal")
        with open(path, "rb") as f:
            magic = f.read(16)
        if magic != b"SQLite format 3\x00":
            raise UserError(f"{path}: not a venustui journal (it is not an SQLite file)")
        problems = []
        readable = _padded_if_cut(path, problems)
        try:
            db = sqlite3.connect(f"file:{readable}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            header = dict(db.execute("SELECT key, value FROM header"))
            status = dict(db.execute("SELECT key, value FROM status"))
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{path}: not a readable venustui journal ({exc})") from None
        if "format_version" not in header:
            raise UserError(f"{path}: an SQLite file, but not a venustui journal (no header)")
        if int(header["format_version"]) > FORMAT_VERSION:
            raise UserError(f"{path}: journal format {header['format_version']} is newer than this venustui "
                            f"reads ({FORMAT_VERSION}): upgrade venustui")
        journal = cls(path, header, status, problems=problems, readable=readable)
        journal._db = db
        return journal

    def events(self, until_seq: int | None = None) -> Iterator:
        """Everything recorded, in sequence order; rows that cannot be read are skipped and counted."""
        chunks = self._table("chunks", until_seq)
        others = self._table("events", until_seq)
        a, b = next(chunks, None), next(others, None)
        while a is not None or b is not None:
            if b is None or (a is not None and a[0] < b[0]):
                chunk = _chunk(a)
                if chunk is not None:
                    yield chunk
                else:
                    self.unreadable += 1
                    if not any(p.startswith("damaged data in chunks") for p in self.problems):
                        self.problems.append("damaged data in chunks: a stored piece fails its checksum")
                a = next(chunks, None)
            else:
                event = self._other(b)
                if event is not None:
                    yield event
                b = next(others, None)

    def _table(self, table: str, until_seq: int | None) -> Iterator[tuple]:
        last = 0
        limit = until_seq if until_seq is not None else 2 ** 62
        query = f"SELECT * FROM {table} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
        page = FIRST_PAGE  # the first events come at once, not after a whole page of 64 KiB pieces
        while True:
            try:
                rows = self._db.execute(query, (last, limit, page)).fetchall()
                page = min(2 * page, PAGE)
            except sqlite3.DatabaseError as exc:
                row = self._next_readable(table, last, limit, exc)
                if row is None:
                    return
                rows = [row]
            # A damaged b-tree can hand rows back out of order or again: keep each seq once, ascending.
            rows = sorted(r for r in rows if isinstance(r[0], int) and r[0] > last)
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def _next_readable(self, table: str, after: int, limit: int, exc: Exception) -> tuple | None:
        """Past a damaged page: the next row that can be read, found by looking ever further ahead."""
        if not any(p.startswith(f"damaged data in {table}") for p in self.problems):
            self.problems.append(f"damaged data in {table}: {exc}")
        self.unreadable += 1
        one = f"SELECT * FROM {table} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 1"
        jump = 1
        start = after
        while start < limit:
            try:
                row = self._db.execute(one, (start, limit)).fetchone()
            except sqlite3.DatabaseError:
                start = after + jump
                jump *= 2
                continue
            return row
        return None

    def _other(self, row: tuple):
        seq, kind, wall, mono, body = row
        try:
            data = json.loads(body)
            if kind == "notice":
                return ev.Notice(data["source"], data["stream"], data["kind"], data["message"], wall, mono, seq,
                                 data.get("detail", {}))
            if kind == "run":
                return ev.RunEvent(data["kind"], data["run"], data["data"], wall, mono, seq)
            if kind == "action":
                return Action(data["name"], data["data"], wall, mono, seq)
        except (ValueError, KeyError, TypeError):
            pass
        self.unreadable += 1
        return None

    def last_seq(self) -> int:
        """The highest sequence number recorded (0 when it cannot be read)."""
        best = 0
        for table in ("chunks", "events"):
            try:
                row = self._db.execute(f"SELECT max(seq) FROM {table}").fetchone()
            except sqlite3.DatabaseError:
                continue
            best = max(best, row[0] or 0)
        return best

    def close(self) -> None:
        self._db.close()


def _padded_if_cut(path: Path, problems: list[str]) -> Path:
    """A journal shorter than its own header says (cut short, copied mid-write) is read through a
    copy padded with zeros: the pages that are there read normally, the missing ones count as damaged."""
    with open(path, "rb") as f:
        head = f.read(100)
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    size = path.stat().st_size
    if not page_size or size >= page_size * pages:
        return path
    import tempfile

    fd, name = tempfile.mkstemp(prefix="venustui-journal-", suffix=".vtj")
    with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
        shutil.copyfileobj(src, out)
        out.truncate(page_size * pages)
    problems.append(f"cut short: {size} of {page_size * pages} bytes present")
    return Path(name)


def _chunk(row: tuple) -> ev.Chunk | None:
    """A chunk row, or None for one a damaged page changed (wrong types, or bytes that fail the CRC)."""
    seq, source, stream, generation, offset, partial, wall, mono, count, data = row[:10]
    if not (isinstance(data, bytes) and isinstance(source, str) and isinstance(stream, str)
            and isinstance(offset, int) and isinstance(count, int) and isinstance(mono, float)):
        return None
    if len(row) > 10 and row[10] != zlib.crc32(data):  # format 1 journals have no CRC
        return None
    return ev.Chunk(source, stream, generation, offset, data, bool(partial), wall, mono, seq, count)
