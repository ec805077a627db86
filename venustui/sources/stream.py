"""Sources that are pipes: a command's stdout and stderr (two streams), and standard input.

A command runs in its own process group; stopping it sends SIGTERM to the group
and SIGKILL after a grace period, because a hung Venus guest ignores SIGINT.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence

from venustui import events as ev
from venustui.errors import UserError
from venustui.sources.split import ChunkSplitter

CHUNK = 1 << 16


class PipeReader:
    """Reads one file descriptor until EOF, splitting lines (a partial last line goes out at EOF or stop)."""

    def __init__(self, label: str, stream: str, fd: int, sink, on_eof=None):
        self.label = label
        self.stream = stream
        self.fd = fd
        self.sink = sink
        self.on_eof = on_eof
        self.bytes_read = 0
        self._split = ChunkSplitter(label, stream)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pipe:{label}:{stream}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    continue
                try:
                    chunk = os.read(self.fd, CHUNK)
                except (BlockingIOError, InterruptedError):
                    continue
                if not chunk:
                    break
                self.bytes_read += len(chunk)
                self.sink.put(self._split.feed(chunk))
        except OSError as exc:
            self.sink.put([ev.Notice(self.label, self.stream, ev.ERROR, f"{self.stream}: read failed: {exc}",
                                     time.time(), time.monotonic())])
        finally:
            out = self._split.flush()
            out.append(ev.Notice(self.label, self.stream, ev.EOF, f"{self.stream}: end of stream",
                                 time.time(), time.monotonic(), detail={"bytes": self.bytes_read}))
            self.sink.put(out)
            if self.on_eof is not None:
                self.on_eof(self.stream)


class StdinSource:
    def __init__(self, label: str, sink, fd: int | None = None):
        self.label = label
        self.reader = PipeReader(label, ev.STDIN, 0 if fd is None else fd, sink)

    def start(self) -> None:
        self.reader.start()

    def stop(self) -> None:
        self.reader.stop()

    def join(self, timeout: float | None = None) -> None:
        self.reader.join(timeout)

    @property
    def alive(self) -> bool:
        return self.reader.alive


def process_alive(pid: int) -> bool:
    """True while pid runs; a killed process nobody has reaped yet (a zombie) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return False


def pids_with(marker: str) -> list[int]:
    """Live processes whose command line holds marker (to check that a run left nothing behind)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() not in f.read():
                    continue
        except OSError:
            continue
        if process_alive(int(entry)):
            found.append(int(entry))
    return found


def kill_group(proc: subprocess.Popen, grace: float = 2.0) -> str:
    """End a process group: SIGTERM, then SIGKILL after grace seconds. Returns how it ended."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = proc.pid
    how = "exited"
    if proc.poll() is None:
        how = "terminated"
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            how = "killed"
    # Children that outlived the leader still hold the group: kill it regardless.
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(5)
    return how


class CommandSource:
    """A child process whose stdout and stderr are two streams of one source."""

    def __init__(
        self,
        label: str,
        argv: Sequence[str],
        sink,
        env: Mapping[str, str] | None = None,
        grace: float = 2.0,
    ):
        if not argv:
            raise UserError(f"{label}: cmd: needs a command, like cmd:'ssh guest journalctl -f'")
        self.label = label
        self.argv = list(argv)
        self.sink = sink
        self.env = dict(env) if env is not None else None
        self.grace = grace
        self.proc: subprocess.Popen | None = None
        self.readers: list[PipeReader] = []
        self._eofs = 0
        self._lock = threading.Lock()
        self._reaped = threading.Event()

    def start(self) -> None:
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.env,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise UserError(f"{self.label}: command not found: {self.argv[0]} (check PATH or give a full path)") from None
        except PermissionError:
            raise UserError(f"{self.label}: cannot execute {self.argv[0]}: permission denied (chmod +x it)") from None
        self.sink.put([ev.Notice(self.label, ev.STDOUT, ev.OPENED, f"started {self.argv[0]} (pid {self.proc.pid})",
                                 time.time(), time.monotonic(), detail={"pid": self.proc.pid, "argv": self.argv})])
        for stream, pipe in ((ev.STDOUT, self.proc.stdout), (ev.STDERR, self.proc.stderr)):
            reader = PipeReader(self.label, stream, pipe.fileno(), self.sink, on_eof=self._stream_done)
            self.readers.append(reader)
            reader.start()

    def _stream_done(self, _stream: str) -> None:
        with self._lock:
            self._eofs += 1
            last = self._eofs == 2
        if last:
            self._reap()

    def _reap(self) -> None:
        assert self.proc is not None
        code = self.proc.wait()
        # Children that keep the group alive after the leader exits are ended too.
        kill_group(self.proc, grace=0)
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            message = f"{self.argv[0]} ended by {name}"
        else:
            message = f"{self.argv[0]} exited with status {code}"
        self.sink.put([ev.Notice(self.label, ev.STDOUT, ev.EXITED, message, time.time(), time.monotonic(),
                                 detail={"returncode": code})])
        self._reaped.set()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            kill_group(self.proc, self.grace)
        for reader in self.readers:
            reader.stop()

    def join(self, timeout: float | None = None) -> None:
        for reader in self.readers:
            reader.join(timeout)
        self._reaped.wait(timeout)

    @property
    def alive(self) -> bool:
        return any(r.alive for r in self.readers) or (self.proc is not None and not self._reaped.is_set())
