"""A headless session: sources feed the hub, the parser turns lines into records, the model folds them.

The CLI, the tests and (later) the TUI drive the same object: ``pump`` takes one
batch off the hub and returns what it understood, so nothing here waits on a
screen and nothing here knows of one.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterable, Sequence

from venustui.config import Config
from venustui.events import Chunk, Notice, Record, RunEvent
from venustui.ingest import Ingest
from venustui.model import Model
from venustui.parse import Parser
from venustui.sources import SourceSpec, check_spec, open_source
from venustui.sources.hub import Hub
from venustui.sources.watcher import Watcher


class Session:
    def __init__(self, specs: Sequence[SourceSpec], config: Config | None = None, *, follow: bool = True,
                 poll_interval: float = 0.25):
        self.config = config or Config()
        self.specs = list(specs)
        self.follow = follow
        self.poll_interval = poll_interval
        self.hub = Hub()
        self.parser = Parser(self.config.rules, self.config.mesa_version)
        self.model = Model()
        self.ingest = Ingest(self.parser, self.model)
        self.watcher = Watcher() if follow else None
        self.sources: list = []
        self._runner: threading.Thread | None = None
        self._started = False

    def check(self) -> None:
        """Raise UserError for a source that can never be read (before anything starts)."""
        for spec in self.specs:
            check_spec(spec, self.follow)

    def start(self) -> None:
        self.check()
        self._started = True
        # A session holds a large, long-lived model and makes many short-lived objects per
        # batch; CPython's default thresholds then run full collections often enough to stall
        # the fold for 100 ms at a time. Our objects rarely form cycles: collect less often.
        gc.set_threshold(50_000, 20, 1000)
        self.sources = [open_source(spec, self.hub, follow=self.follow, watcher=self.watcher,
                                    poll_interval=self.poll_interval) for spec in self.specs]
        if self.follow:
            for source in self.sources:
                source.start()
        else:
            # Finite reads go one source after another, so the fold is deterministic.
            self._runner = threading.Thread(target=self._run_in_order, name="sources", daemon=True)
            self._runner.start()

    def _run_in_order(self) -> None:
        for source in self.sources:
            source.start()
            source.join()

    @property
    def finished(self) -> bool:
        """True once every source has ended and everything it delivered has been taken."""
        if not self._started:
            return False
        if self._runner is not None and self._runner.is_alive():
            return False
        return not any(s.alive for s in self.sources) and self.hub.backlog == 0

    def pump(self, timeout: float = 0.1) -> list[tuple[Chunk | Notice | RunEvent, list[Record]]]:
        """Take one batch and fold it; returns each event with the records parsed from it."""
        out: list[tuple[Chunk | Notice | RunEvent, list[Record]]] = []
        for event in self.hub.take(timeout):
            if isinstance(event, Chunk):
                out.append((event, self.ingest.fold(event)))
            else:
                self.model.apply(event)
                out.append((event, []))
        return out

    def run_to_end(self, timeout: float = 60.0) -> list[tuple[Chunk | Notice, list[Record]]]:
        """Pump until every source has ended (finite sessions: files without follow, commands)."""
        deadline = time.monotonic() + timeout
        out: list[tuple[Chunk | Notice, list[Record]]] = []
        while not self.finished and time.monotonic() < deadline:
            out.extend(self.pump(0.05))
        out.extend(self.pump(0))
        return out

    def stop(self) -> None:
        for source in self.sources:
            source.stop()
        self.hub.close()
        for source in self.sources:
            source.join(5)
        if self.watcher is not None:
            self.watcher.close()


def fold_files(paths: Iterable[str], config: Config | None = None) -> Model:
    """Read whole files once, in order, and return the model they build."""
    from venustui.sources import parse_spec

    session = Session([parse_spec(p) for p in paths], config, follow=False)
    session.start()
    try:
        session.run_to_end()
    finally:
        session.stop()
    return session.model
