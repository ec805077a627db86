"""Producers of events: files (followed by path), globs, standard input and commands.

SOURCE syntax (DESIGN.md): ``[LABEL=]PATH``, a glob, ``-`` for stdin, or
``[LABEL=]cmd:ARGV``. ARGV is split like a shell would, once, from the user's own
command line or config, never from log text; no shell runs unless the user
writes one (``cmd:sh -c '...'``).
"""

from __future__ import annotations

import glob as globmod
import os
import re
import shlex
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from venustui.errors import UserError
from venustui.sources.stream import CommandSource, StdinSource
from venustui.sources.tail import FileTail, check_readable
from venustui.sources.watcher import Watcher

LABEL = re.compile(r"^([A-Za-z_][\w.-]*)=(.+)$", re.S)
GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class SourceSpec:
    label: str
    kind: str  # "file" | "glob" | "stdin" | "cmd" | "serial"
    path: str = ""
    argv: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "cmd":
            return f"{self.label}=cmd:{shlex.join(self.argv)}"
        if self.kind == "stdin":
            return f"{self.label}=-"
        if self.kind == "serial":
            return f"{self.label}=serial:{self.path}"
        return f"{self.label}={self.path}"


def parse_spec(text: str) -> SourceSpec:
    """Turn one SOURCE argument into a spec, or raise UserError naming it and the fix."""
    if not text:
        raise UserError("empty SOURCE (give a path, a glob, '-' or cmd:ARGV)")
    label, rest = None, text
    match = LABEL.match(text)
    # A path that exists as written wins over LABEL=PATH (a file may be named a=b.log).
    if match and not os.path.exists(text):
        label, rest = match.group(1), match.group(2)
    if rest.startswith("cmd:"):
        command = rest[4:]
        try:
            argv = tuple(shlex.split(command))
        except ValueError as exc:
            raise UserError(f"{text}: cannot split the command: {exc} (check its quotes)") from None
        if not argv:
            raise UserError(f"{text}: cmd: needs a command, like cmd:'ssh guest dmesg -w'")
        return SourceSpec(label or os.path.basename(argv[0]), "cmd", argv=argv)
    if rest.startswith("serial:"):
        path = rest[7:]
        if not path:
            raise UserError(f"{text}: serial: needs a path, like serial:/dev/pts/3 or serial:/tmp/qemu-serial.sock")
        return SourceSpec(label or os.path.basename(path) or path, "serial", path=path)
    if rest == "-":
        return SourceSpec(label or "stdin", "stdin")
    if GLOB_CHARS.search(rest) and not os.path.exists(rest):
        return SourceSpec(label or "", "glob", path=rest)
    return SourceSpec(label or os.path.basename(rest.rstrip("/")) or rest, "file", path=rest)


def check_spec(spec: SourceSpec, follow: bool) -> None:
    """Refuse at start-up what can never work; a missing file is fine when following."""
    if spec.kind == "file":
        check_readable(Path(spec.path), follow=follow)
    elif spec.kind == "serial" and not follow and not os.path.exists(spec.path):
        raise UserError(f"{spec.path}: no such serial console (check the path QEMU printed; --follow waits for it)")
    elif spec.kind == "glob" and not follow and not globmod.glob(spec.path):
        raise UserError(f"{spec.path}: no file matches this glob (check it; --follow waits for matches)")


class GlobSource:
    """Every file matching a pattern, including files that appear later (when following).

    Following, one thread polls every matched file (a poll of an unchanged file is one stat),
    woken early by file events: hundreds of files cost what a few do. The journal being
    written (``exclude``) is never one of them."""

    def __init__(self, spec: SourceSpec, sink, *, follow: bool, watcher: Watcher | None,
                 poll_interval: float = 0.25, rescan_interval: float = 1.0, exclude: tuple[str, ...] = ()):
        self.spec = spec
        self.sink = sink
        self.follow = follow
        self.watcher = watcher
        self.poll_interval = poll_interval
        self.rescan_interval = rescan_interval
        self.exclude = tuple(exclude)
        self.tails: dict[str, FileTail] = {}
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"glob:{spec.path}", daemon=True)

    def _excluded(self, match: str) -> bool:
        for path in self.exclude:
            try:
                if os.path.samefile(match, path):
                    return True
            except OSError:
                if os.path.abspath(match) == os.path.abspath(path):
                    return True
        return False

    def _scan(self) -> None:
        for match in sorted(globmod.glob(self.spec.path)):
            if match in self.tails or os.path.isdir(match) or self._excluded(match):
                continue
            label = self.spec.label or os.path.basename(match)
            if self.spec.label:
                label = f"{self.spec.label}:{os.path.basename(match)}"
            tail = FileTail(label, Path(match), self.sink, follow=self.follow,
                            poll_interval=self.poll_interval, watcher=self.watcher,
                            wake=self.wake if self.follow else None)
            self.tails[match] = tail
            if self.follow:
                tail.watch()
                tail.poll()
            else:
                tail.start()
                tail.join()  # one file after another, so a finite read is deterministic

    def _run(self) -> None:
        try:
            self._scan()
            next_scan = time.monotonic() + self.rescan_interval
            while self.follow:
                stopping = self._stop.is_set()
                for tail in list(self.tails.values()):
                    if stopping:
                        tail.stop()
                    tail.poll()
                if stopping:
                    return
                self.wake.wait(self.poll_interval)
                self.wake.clear()
                if time.monotonic() >= next_scan and not self._stop.is_set():
                    self._scan()
                    next_scan = time.monotonic() + self.rescan_interval
        finally:
            for tail in self.tails.values():
                tail.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        for tail in list(self.tails.values()):
            if not self.follow:
                tail.stop()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def open_source(spec: SourceSpec, sink, *, follow: bool, watcher: Watcher | None = None,
                poll_interval: float = 0.25, env=None, exclude: tuple[str, ...] = ()):
    """Build the producer for a spec (not started); a glob never matches a path in exclude."""
    if spec.kind == "file":
        return FileTail(spec.label, Path(spec.path), sink, follow=follow,
                        poll_interval=poll_interval, watcher=watcher)
    if spec.kind == "glob":
        return GlobSource(spec, sink, follow=follow, watcher=watcher, poll_interval=poll_interval,
                          exclude=exclude)
    if spec.kind == "stdin":
        return StdinSource(spec.label, sink)
    if spec.kind == "cmd":
        return CommandSource(spec.label, spec.argv, sink, env=env, restart=follow)
    if spec.kind == "serial":
        from venustui.sources.serial import SerialSource

        return SerialSource(spec.label, spec.path, sink, follow=follow)
    raise ValueError(spec.kind)

