"""Sources that are pipes: a command's stdout and stderr (two streams), and standard input.

A command runs in its own process group; stopping it sends SIGTERM to the group
and SIGKILL after a grace period, because a hung Venus guest ignores SIGINT.
"""

from __future__ import annotations

import errno
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
from venustui.sources.utf16 import StreamText, text_chunks, text_flush

CHUNK = 1 << 16


class PipeReader:
    """Reads one file descriptor until EOF, splitting lines (a partial last line goes out at EOF or stop).
    With read_utf16, bytes that start with UTF-16's byte-order mark are passed on in UTF-8 (a serial console's
    bytes are the guest's, as they come)."""

    def __init__(self, label: str, stream: str, fd: int, sink, on_eof=None, generation: int = 0,
                 read_utf16: bool = True):
        self.label = label
        self.stream = stream
        self.fd = fd
        self.sink = sink
        self.on_eof = on_eof
        self.bytes_read = 0
        self._split = ChunkSplitter(label, stream, generation)
        self._text = StreamText() if read_utf16 else None
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
                except OSError as exc:
                    if exc.errno == errno.EIO:  # a PTY whose other side closed: its end, not a failure
                        break
                    raise
                if not chunk:
                    break
                self.bytes_read += len(chunk)
                self.sink.put(self._chunks(chunk))
        except OSError as exc:
            self.sink.put([ev.Notice(self.label, self.stream, ev.ERROR, f"{self.stream}: read failed: {exc}",
                                     time.time(), time.monotonic())])
        finally:
            out = text_flush(self._split, self._text)
            out.append(ev.Notice(self.label, self.stream, ev.EOF, f"{self.stream}: end of stream",
                                 time.time(), time.monotonic(), detail={"bytes": self.bytes_read}))
            self.sink.put(out)
            if self.on_eof is not None:
                self.on_eof(self.stream)

    def _chunks(self, data: bytes) -> list:
        out, found_utf16 = text_chunks(self._split, self._text, data)
        if found_utf16:
            out.insert(0, ev.Notice(self.label, self.stream, ev.OPENED, f"{self.stream}: UTF-16 text, read as UTF-8",
                                    time.time(), time.monotonic()))
        return out


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
    """True while pid runs; an exited process not yet reaped (a zombie) counts as gone. kill(pid, 0) says whether
    the pid exists, waitid(WNOWAIT) whether a child of ours exited; another parent's zombie needs /proc."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return not _zombie(pid)  # not our child: it exists, unless it is a zombie its parent has not reaped
    return exited is None


def _zombie(pid: int) -> bool:
    """Whether another parent's process has exited unreaped. Only Linux's /proc tells (no portable call
    does); without it (macOS, an empty /proc) kill(0) alone decides."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][:1] == "Z"
    except (OSError, IndexError):
        return False


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


# After a command exits with an error (an ssh connection dropped), it is started again after these
# delays in turn (the last repeats); a run that lasted RESTART_RESET seconds starts the back-off over.
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
RESTART_RESET = 60.0


class CommandSource:
    """A child process whose stdout and stderr are two streams of one source. With restart, a command that
    exits with an error (not 0, not ended by us) is started again after a back-off (RESTART_DELAYS), each
    run a new generation of the source, each restart a notice the journal keeps."""

    def __init__(
        self,
        label: str,
        argv: Sequence[str],
        sink,
        env: Mapping[str, str] | None = None,
        grace: float = 2.0,
        restart: bool = False,
        delays: Sequence[float] = RESTART_DELAYS,
        clock=time.monotonic,
    ):
        if not argv:
            raise UserError(f"{label}: cmd: needs a command, like cmd:'ssh guest journalctl -f'")
        self.label = label
        self.argv = list(argv)
        self.sink = sink
        self.env = dict(env) if env is not None else None
        self.grace = grace
        self.restart = restart
        self.delays = tuple(delays)
        self.clock = clock
        self.proc: subprocess.Popen | None = None
        self.readers: list[PipeReader] = []
        self.generation = 0  # one per run of the command
        self.restarts = 0
        self._failures = 0  # errors in a row, for the back-off
        self._started_at = 0.0
        self._eofs = 0
        self._lock = threading.Lock()
        self._reaped = threading.Event()
        self._stopping = threading.Event()
        self._waiter: threading.Thread | None = None

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
        self._started_at = self.clock()
        self._eofs = 0
        self._reaped.clear()
        self.sink.put([ev.Notice(self.label, ev.STDOUT, ev.OPENED, f"started {self.argv[0]} (pid {self.proc.pid})",
                                 time.time(), time.monotonic(),
                                 detail={"pid": self.proc.pid, "argv": self.argv, "generation": self.generation})])
        readers = []
        for stream, pipe in ((ev.STDOUT, self.proc.stdout), (ev.STDERR, self.proc.stderr)):
            readers.append(PipeReader(self.label, stream, pipe.fileno(), self.sink, on_eof=self._stream_done,
                                      generation=self.generation))
        self.readers = readers
        for reader in readers:
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
        again = self.restart and code != 0 and not self._stopping.is_set()
        delay = 0.0
        if again:
            self._failures = 1 if self.clock() - self._started_at >= RESTART_RESET else self._failures + 1
            delay = self.delays[min(self._failures, len(self.delays)) - 1]
            message += f"; restarting in {delay:g} s"
        self.sink.put([ev.Notice(self.label, ev.STDOUT, ev.EXITED, message, time.time(), time.monotonic(),
                                 detail={"returncode": code, **({"restart_in": delay} if again else {})})])
        if again:
            self._waiter = threading.Thread(target=self._restart_after, args=(delay,), name=f"restart:{self.label}",
                                            daemon=True)
            self._waiter.start()
        else:
            self._reaped.set()

    def _restart_after(self, delay: float) -> None:
        if self._stopping.wait(delay):
            self._reaped.set()
            return
        self.generation += 1
        self.restarts += 1
        try:
            self.start()
        except UserError as exc:  # the command went away meanwhile: say so, and stop trying
            self.sink.put([ev.Notice(self.label, ev.STDOUT, ev.ERROR, str(exc), time.time(), time.monotonic())])
            self._reaped.set()

    def stop(self) -> None:
        self._stopping.set()
        if self.proc is not None and self.proc.poll() is None:
            kill_group(self.proc, self.grace)
        for reader in self.readers:
            reader.stop()

    def join(self, timeout: float | None = None) -> None:
        if self._waiter is not None:
            self._waiter.join(timeout)
        for reader in list(self.readers):
            reader.join(timeout)
        self._reaped.wait(timeout)

    @property
    def alive(self) -> bool:
        """Running, or waiting to be started again."""
        return any(r.alive for r in self.readers) or (self.proc is not None and not self._reaped.is_set())
