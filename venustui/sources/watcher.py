"""One watchdog observer shared by all tails: it only wakes them early; polling does the rest."""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

# watchdog logs a harmless race at shutdown ("queue_events() called when the thread is
# inactive") through Python's last-resort handler, onto the user's terminal. Polling
# covers anything watchdog misses, so its messages are not ours to show.
logging.getLogger("watchdog").addHandler(logging.NullHandler())
logging.getLogger("watchdog").propagate = False


class _Wake(FileSystemEventHandler):
    def __init__(self, watcher: "Watcher"):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.watcher.poke(os.fsdecode(raw))


class Watcher:
    """Wakes the tail of a path when its directory reports a change to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[threading.Event]] = defaultdict(set)
        self._dirs: dict[str, object] = {}
        self._observer = None
        self.error: str | None = None

    def _ensure(self):
        if self._observer is None and self.error is None:
            try:
                observer = Observer()
                observer.daemon = True
                observer.start()
                self._observer = observer
            except Exception as exc:  # inotify limits and the like: polling still works
                self.error = f"file events unavailable ({exc}); polling only"
        return self._observer

    def watch(self, path: Path, wake: threading.Event) -> None:
        key = os.path.abspath(path)
        folder = os.path.dirname(key)
        with self._lock:
            self._waiters[key].add(wake)
            observer = self._ensure()
            if observer is None or folder in self._dirs or not os.path.isdir(folder):
                return
            try:
                self._dirs[folder] = observer.schedule(_Wake(self), folder, recursive=False)
            except Exception as exc:
                self.error = f"file events unavailable for {folder} ({exc}); polling only"

    def unwatch(self, path: Path, wake: threading.Event) -> None:
        with self._lock:
            self._waiters.get(os.path.abspath(path), set()).discard(wake)

    def poke(self, path: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(path, ()))
        for wake in waiters:
            wake.set()

    def close(self) -> None:
        with self._lock:
            observer, self._observer = self._observer, None
            self._dirs.clear()
        if observer is not None:
            observer.stop()
            observer.join(timeout=2)
