"""A serial console as a source: a PTY (QEMU's `-serial pty` names its /dev/pts/N) or a UNIX socket (QEMU's
`-serial unix:PATH,server`), read as one stream, its bytes as the guest sent them (a PTY in raw mode: no echo,
no translation; the console's CRs are the parser's to peel). Followed, a console that goes away (QEMU
restarted) is opened again after a back-off, each time a new generation of the source."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
import tty
from collections.abc import Sequence

from venustui import events as ev
from venustui.sources.stream import RESTART_DELAYS, PipeReader

SERIAL = "serial"  # the stream's name


class SerialSource:
    def __init__(self, label: str, path: str, sink, *, follow: bool, delays: Sequence[float] = RESTART_DELAYS):
        self.label = label
        self.path = path
        self.sink = sink
        self.follow = follow
        self.delays = tuple(delays)
        self.generation = 0
        self._stop = threading.Event()
        self._reader: PipeReader | None = None
        self._thread = threading.Thread(target=self._run, name=f"serial:{label}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.stop()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _notice(self, kind: str, message: str, **detail) -> None:
        self.sink.put([ev.Notice(self.label, SERIAL, kind, message, time.time(), time.monotonic(), detail=detail)])

    def _open(self) -> tuple[int, object]:
        """The console's fd and how to close it."""
        if stat.S_ISSOCK(os.stat(self.path).st_mode):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.path)
            except OSError:
                sock.close()
                raise
            return sock.fileno(), sock.close
        fd = os.open(self.path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        if os.isatty(fd):
            tty.setraw(fd)
        return fd, lambda: os.close(fd)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                fd, close = self._open()
            except OSError as exc:
                failures += 1
                if not self.follow:
                    self._notice(ev.ERROR, f"cannot open {self.path}: {exc.strerror or exc}")
                    return
                delay = self.delays[min(failures, len(self.delays)) - 1]
                self._notice(ev.WAITING, f"cannot open {self.path}: {exc.strerror or exc}; again in {delay:g} s",
                             restart_in=delay)
                self._stop.wait(delay)
                continue
            failures = 0
            self._notice(ev.OPENED, f"opened {self.path}", generation=self.generation)
            done = threading.Event()
            self._reader = PipeReader(self.label, SERIAL, fd, self.sink, on_eof=lambda _s, done=done: done.set(),
                                      generation=self.generation, read_utf16=False)
            self._reader.start()
            while not done.wait(0.1) and not self._stop.is_set():
                pass
            self._reader.stop()
            self._reader.join(2)
            close()
            if not self.follow:
                return
            self.generation += 1
            self._stop.wait(self.delays[0])
