"""Tailing a file: watchdog wake-ups with a polling fallback, rotation, truncation, re-creation.

Shared folders from a guest (9p, virtiofs, SMB) often deliver no inotify events,
so every tail also polls; watchdog only makes it react sooner. A poll of a file that
has not changed costs one stat. A path that is not a regular file (a FIFO, a
character device such as a serial console) is read as a stream: a FIFO is opened
without waiting for its writer and read once the writer comes, as ``cat`` does.
A file that starts with UTF-16's byte-order mark (PowerShell's ``>`` writes so, a QEMU
on Windows) is text all the same: its lines are passed on in UTF-8, as every source's are.
"""

from __future__ import annotations

import errno
import os
import select
import stat
import threading
import time
from pathlib import Path

from venustui import events as ev
from venustui.errors import UserError
from venustui.sources.split import ChunkSplitter
from venustui.sources.utf16 import UTF16_BOMS, StreamText, Utf16ToUtf8, text_chunks, text_flush

CHUNK = 1 << 20
FINGERPRINT = 64  # bytes before the read position re-checked to catch copytruncate + rewrite


def path_problem(path: Path, exc: OSError) -> str:
    """Why a path cannot be read, and the fix, in one line."""
    if isinstance(exc, FileNotFoundError):
        return f"{path}: no such file (check the path; --follow waits for it to appear)"
    if isinstance(exc, PermissionError):
        return f"{path}: permission denied (make it and its folders readable, e.g. chmod o+rx FOLDER, or run as its owner)"
    if exc.errno == errno.ELOOP:
        return f"{path}: a loop of symbolic links (point the link at a real file)"
    if isinstance(exc, NotADirectoryError):
        return f"{path}: a part of the path is not a folder (check the path)"
    if isinstance(exc, IsADirectoryError):
        return f"{path}: is a directory (give a log file in it, or a glob like '{path}/*.log')"
    return f"{path}: cannot read it: {exc.strerror or exc}"


def check_readable(path: Path, *, follow: bool = False) -> None:
    """Fail early, with the fix, for a path that can never be tailed; following, a missing file is fine.
    A FIFO is not opened here: opening and closing it would take the lines of a writer waiting for it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if follow:
            return
        raise UserError(path_problem(path, FileNotFoundError())) from None
    except OSError as exc:
        raise UserError(path_problem(path, exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise UserError(path_problem(path, IsADirectoryError()))
    if not stat.S_ISREG(st.st_mode):
        if not os.access(path, os.R_OK):
            raise UserError(path_problem(path, PermissionError()))
        return
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UserError(path_problem(path, exc)) from None


class FileTail:
    """One file followed by path: what is read is delivered as Chunk and Notice events.

    ``poll()`` is one look at the file; a tail started with ``start()`` polls on its own
    thread, and a glob polls all its tails from one thread instead."""

    def __init__(
        self,
        label: str,
        path: Path,
        sink,
        *,
        follow: bool = True,
        poll_interval: float = 0.25,
        watcher=None,
        gather: float = 0.0,
        wake: threading.Event | None = None,
    ):
        self.label = label
        self.path = path
        self.sink = sink
        self.follow = follow
        self.poll_interval = poll_interval
        self.watcher = watcher
        self.gather = gather  # after a wake-up, let writes gather this long: fewer, larger chunks
        self.wake = wake or threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fd: int | None = None
        self._ident: tuple[int, int] | None = None
        self._seen: tuple | None = None  # the file's stat when it was last read to its end
        self._stream = False  # not a regular file: no size, no rotation; read as it comes
        self._generation = 0
        self._split = ChunkSplitter(label, ev.FILE)
        self._text: Utf16ToUtf8 | StreamText | None = None  # this generation's UTF-16 file, or a stream's sniffer
        self._codec_decided = False  # whether this generation's first bytes said so yet
        self._deleted = False
        self._gone = False
        self._announced_wait = False
        self._ident_checked = False
        self.finished = False
        self.bytes_read = 0

    # lifecycle -----------------------------------------------------------
    def watch(self) -> None:
        if self.watcher is not None:
            self.watcher.watch(self.path, self.wake)

    def start(self) -> None:
        self.watch()
        self._thread = threading.Thread(target=self._run, name=f"tail:{self.label}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.watcher is not None:
            self.watcher.unwatch(self.path, self.wake)
        self.finished = True

    def _flush(self) -> list:
        """The last line held back (and a UTF-16 file's odd last byte), as chunks."""
        return text_flush(self._split, self._text)

    # the loop --------------------------------------------------------------
    def _notice(self, kind: str, message: str, **detail) -> ev.Notice:
        return ev.Notice(self.label, ev.FILE, kind, message, time.time(), time.monotonic(), detail=detail)

    def _run(self) -> None:
        try:
            while not self.poll():
                if self._stream:
                    continue  # a stream waits in select, where a stop is seen within a poll interval
                if self.wake.wait(self.poll_interval) and self.gather:
                    self._stop.wait(self.gather)
                self.wake.clear()
        finally:
            self.close()

    def poll(self) -> bool:
        """One look: open if need be, notice rotation or truncation, read what is new. True once finished
        (a tail must report, never die silently: a failure is a notice)."""
        if self.finished:
            return True
        try:
            return self._poll()
        except Exception as exc:
            out = self._flush()
            out.append(self._notice(ev.ERROR, f"{self.path}: tail stopped: {exc}"))
            self.sink.put(out)
            self.close()
            return True

    def _poll(self) -> bool:
        if self._fd is None and not self._open():
            return not self.follow or self._stop.is_set() or self.finished
        if self._stream:
            return self._read_stream()
        if self.follow and self._ident_checked:
            if self._unchanged() and not self._stop.is_set():
                return False
            self._check_replaced_or_truncated()
            if self._fd is None:
                return self._stop.is_set()
        self._drain()
        self._ident_checked = True
        if self._stop.is_set():
            self.sink.put(self._flush())
            return True
        if not self.follow:
            out = self._flush()
            out.append(self._notice(ev.EOF, f"{self.path}: end of file", bytes=self.bytes_read))
            self.sink.put(out)
            return True
        position = self._position()
        self._remember_fingerprint(position)
        self._seen = self._stat_key(position)
        return False

    def _stat_key(self, position: int) -> tuple | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, position

    def _unchanged(self) -> bool:
        """Nothing new since the last read to the end: the same file, size and time, and no byte
        beyond what was read (a write between the last read and its stat shows here). One stat."""
        seen = self._seen
        return seen is not None and seen[2] == seen[4] and seen == self._stat_key(seen[4])

    def _open(self) -> bool:
        try:
            # Not blocking: a FIFO opens at once and is read when its writer comes.
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            if not self._announced_wait:
                self._announced_wait = True
                self.sink.put([self._notice(ev.WAITING, f"{self.path}: waiting for the file to appear")])
            return False
        except OSError as exc:
            self.sink.put([self._notice(ev.ERROR, path_problem(self.path, exc))])
            self.close()
            return False
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            os.close(fd)
            self.sink.put([self._notice(ev.ERROR, path_problem(self.path, IsADirectoryError()))])
            self.close()
            return False
        first_open = self._ident is None
        self._fd = fd
        self._ident = (st.st_dev, st.st_ino)
        self._stream = not stat.S_ISREG(st.st_mode)
        if self._stream:  # a FIFO (a log a shell pipes in) may be UTF-16 too; a device's bytes are the device's
            self._text = StreamText() if stat.S_ISFIFO(st.st_mode) else None
        else:
            self._text = self._text_codec() if st.st_size >= 2 else None
        self._codec_decided = st.st_size >= 2 or self._stream  # an empty file: decided by its first bytes
        self._deleted = False
        self._gone = False
        if first_open:
            how = " (UTF-16 text, read as UTF-8)" if isinstance(self._text, Utf16ToUtf8) else ""
            self.sink.put([self._notice(ev.OPENED, f"{self.path}: opened{how}", size=st.st_size)])
        return True

    def _text_codec(self) -> Utf16ToUtf8 | None:
        """A reader from UTF-16 for a regular file that starts with its byte-order mark; None for any other."""
        codec = UTF16_BOMS.get(os.pread(self._fd, 2, 0))
        return Utf16ToUtf8(codec) if codec else None

    def _drain(self) -> None:
        assert self._fd is not None
        if not self._codec_decided and os.fstat(self._fd).st_size >= 2:
            self._codec_decided = True
            self._text = self._text_codec() if self._position() == 0 else None
        while not self._stop.is_set():
            try:
                chunk = os.read(self._fd, CHUNK)
            except InterruptedError:
                continue
            if not chunk:
                return
            self.bytes_read += len(chunk)
            self.sink.put(text_chunks(self._split, self._text, chunk)[0])

    def _read_stream(self) -> bool:
        """A FIFO or device: wait (up to a poll interval) for bytes, read them; its end is the writer's
        close. Following, a FIFO is opened again for its next writer."""
        assert self._fd is not None
        if self._stop.is_set():
            self.sink.put(self._flush())
            return True
        ready, _, _ = select.select([self._fd], [], [], self.poll_interval)
        if not ready:
            return False
        try:
            chunk = os.read(self._fd, CHUNK)
        except (BlockingIOError, InterruptedError):
            return False
        if chunk:
            self.bytes_read += len(chunk)
            self.sink.put(self._stream_chunks(chunk))
            return False
        out = self._flush()
        if not self.follow:
            out.append(self._notice(ev.EOF, f"{self.path}: end of stream (its writer closed it)",
                                    bytes=self.bytes_read))
            self.sink.put(out)
            return True
        self.sink.put(out)
        os.close(self._fd)  # a closed FIFO stays readable at its end: open it again to wait for a writer
        self._fd = None
        return False

    def _stream_chunks(self, data: bytes) -> list:
        """A stream's bytes as chunks, read as UTF-8 from UTF-16 if its first bytes say so (and a notice then)."""
        out, found_utf16 = text_chunks(self._split, self._text, data)
        return [self._notice(ev.OPENED, f"{self.path}: UTF-16 text, read as UTF-8"), *out] if found_utf16 else out

    def _position(self) -> int:
        assert self._fd is not None
        return os.lseek(self._fd, 0, os.SEEK_CUR)

    def _check_replaced_or_truncated(self) -> None:
        """Runs before reading new bytes, so a rewrite after truncation is read from its start."""
        assert self._fd is not None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if not self._gone:
                self._gone = True
                # Still linked somewhere: renamed away by rotation, not deleted.
                self._deleted = os.fstat(self._fd).st_nlink == 0
                if self._deleted:
                    self.sink.put([self._notice(ev.DELETED, f"{self.path}: deleted; waiting for it to come back")])
                else:
                    self.sink.put([self._notice(ev.WAITING, f"{self.path}: renamed away; waiting for a new file")])
            return
        except OSError:
            return
        if (st.st_dev, st.st_ino) != self._ident:
            # Renamed away (rotation) or deleted and re-created: finish the old file,
            # emit its partial last line, then start the new generation.
            self._drain()
            deleted = self._deleted or os.fstat(self._fd).st_nlink == 0
            kind = ev.RECREATED if deleted else ev.ROTATED
            out = self._flush()
            os.close(self._fd)
            self._fd = None
            self._fingerprint = None
            self._seen = None
            self._generation += 1
            self._split.restart(self._generation)
            out.append(self._notice(kind, f"{self.path}: {kind}; reading the new file from its start",
                                    generation=self._generation))
            self.sink.put(out)
            self._open()
            return
        position = self._position()
        size = os.fstat(self._fd).st_size
        if size < position or not self._fingerprint_holds(position):
            out = self._flush()
            self._generation += 1
            self._split.restart(self._generation)
            self._fingerprint = None
            os.lseek(self._fd, 0, os.SEEK_SET)
            self._text, self._codec_decided = None, False
            out.append(self._notice(ev.TRUNCATED, f"{self.path}: truncated; reading again from its start",
                                    generation=self._generation, was=position, now=size))
            self.sink.put(out)

    # copytruncate followed by a quick rewrite can leave the file longer than our
    # position; the bytes just before it then differ from what we read.
    _fingerprint: tuple[int, bytes] | None = None

    def _remember_fingerprint(self, position: int) -> None:
        if self._fingerprint is not None and self._fingerprint[0] == position:
            return
        start = max(0, position - FINGERPRINT)
        self._fingerprint = (position, os.pread(self._fd, position - start, start))

    def _fingerprint_holds(self, position: int) -> bool:
        if self._fingerprint is None or self._fingerprint[0] != position:
            return True
        start = max(0, position - FINGERPRINT)
        return os.pread(self._fd, position - start, start) == self._fingerprint[1]
