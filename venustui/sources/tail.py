"""Tailing a file: watchdog wake-ups with a polling fallback, rotation, truncation, re-creation.

Shared folders from a guest (9p, virtiofs, SMB) often deliver no inotify events,
so every tail also polls; watchdog only makes it react sooner.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from pathlib import Path

from venustui import events as ev
from venustui.errors import UserError
from venustui.sources.split import ChunkSplitter

CHUNK = 1 << 20
FINGERPRINT = 64  # bytes before the read position re-checked to catch copytruncate + rewrite


def check_readable(path: Path) -> None:
    """Fail early, with the fix, for a path that can never be tailed."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file (check the path; --follow waits for it to appear)") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied on a parent folder (check its permissions)") from None
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"{path}: is a directory (give a log file in it, or a glob like '{path}/*.log')")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise UserError(f"{path}: permission denied (make it readable, e.g. chmod o+r, or run as its owner)") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot open: {exc.strerror}") from None


class FileTail:
    """One file followed by path: what is read is delivered as Line and Notice events."""

    def __init__(
        self,
        label: str,
        path: Path,
        sink,
        *,
        follow: bool = True,
        poll_interval: float = 0.25,
        idle_flush: float = 0.5,
        watcher=None,
        gather: float = 0.0,
    ):
        self.label = label
        self.path = path
        self.sink = sink
        self.follow = follow
        self.poll_interval = poll_interval
        self.idle_flush = idle_flush
        self.watcher = watcher
        self.gather = gather  # after a wake-up, let writes gather this long: fewer, larger chunks
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"tail:{label}", daemon=True)
        self._fd: int | None = None
        self._ident: tuple[int, int] | None = None
        self._generation = 0
        self._split = ChunkSplitter(label, ev.FILE)
        self._deleted = False
        self._gone = False
        self._announced_wait = False
        self._ident_checked = False
        self.bytes_read = 0

    # lifecycle -----------------------------------------------------------
    def start(self) -> None:
        if self.watcher is not None:
            self.watcher.watch(self.path, self.wake)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # the loop --------------------------------------------------------------
    def _notice(self, kind: str, message: str, **detail) -> ev.Notice:
        return ev.Notice(self.label, ev.FILE, kind, message, time.time(), time.monotonic(), detail=detail)

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a tail must report, never die silently
            out = self._split.flush()
            out.append(self._notice(ev.ERROR, f"{self.path}: tail stopped: {exc}"))
            self.sink.put(out)
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self.watcher is not None:
                self.watcher.unwatch(self.path, self.wake)

    def _loop(self) -> None:
        while True:
            if self._fd is None and not self._open():
                if not self.follow or self._stop.is_set():
                    return
                self.wake.wait(self.poll_interval)
                self.wake.clear()
                continue
            if self.follow and self._ident_checked:
                self._check_replaced_or_truncated()
                if self._fd is None:
                    continue
            self._drain()
            self._ident_checked = True
            if self._stop.is_set():
                self.sink.put(self._split.flush())
                return
            if not self.follow:
                out = self._split.flush()
                out.append(self._notice(ev.EOF, f"{self.path}: end of file", bytes=self.bytes_read))
                self.sink.put(out)
                return
            self._remember_fingerprint(self._position())
            if self._split.pending and self._split.idle_for(time.monotonic()) >= self.idle_flush:
                self.sink.put(self._split.flush())
            if self.wake.wait(self.poll_interval) and self.gather:
                self._stop.wait(self.gather)
            self.wake.clear()

    def _open(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            if not self._announced_wait:
                self._announced_wait = True
                self.sink.put([self._notice(ev.WAITING, f"{self.path}: waiting for the file to appear")])
            return False
        except IsADirectoryError:
            self.sink.put([self._notice(ev.ERROR, f"{self.path}: is a directory (give a log file in it)")])
            self._stop.set()
            return False
        except PermissionError:
            self.sink.put([self._notice(ev.ERROR, f"{self.path}: permission denied (make it readable)")])
            self._stop.set()
            return False
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            os.close(fd)
            self.sink.put([self._notice(ev.ERROR, f"{self.path}: is a directory (give a log file in it)")])
            self._stop.set()
            return False
        first_open = self._ident is None
        self._fd = fd
        self._ident = (st.st_dev, st.st_ino)
        self._deleted = False
        self._gone = False
        if first_open:
            self.sink.put([self._notice(ev.OPENED, f"{self.path}: opened", size=st.st_size)])
        return True

    def _drain(self) -> None:
        assert self._fd is not None
        while not self._stop.is_set():
            try:
                chunk = os.read(self._fd, CHUNK)
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise
            if not chunk:
                return
            self.bytes_read += len(chunk)
            self.sink.put(self._split.feed(chunk))

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
            out = self._split.flush()
            os.close(self._fd)
            self._fd = None
            self._fingerprint = None
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
            out = self._split.flush()
            self._generation += 1
            self._split.restart(self._generation)
            self._fingerprint = None
            os.lseek(self._fd, 0, os.SEEK_SET)
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
