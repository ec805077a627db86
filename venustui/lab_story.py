"""The lab's story, end to end: with the default flags the probe's fence phase hangs; triage finds
the flag that makes it pass; the map phase (the feedback mechanism by hand) shows why.

``tell_story`` runs it against an installed lab and reports progress through callbacks, so the
command line prints it and anything else (the TUI, tests) can show it its own way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from venustui.config import Config
from venustui.errors import UserError
from venustui.lab import Lab
from venustui.probe.runner import PROBE, Runner, RunRecord
from venustui.session import Session
from venustui.triage import TriageResult, triage

if TYPE_CHECKING:
    from venustui.model import Model

STORY_PHASE = "fence"  # the phase that hangs with the defaults
PUMP_SECONDS = 0.05


def _ignore(*_args) -> None:
    pass


@dataclass
class StoryCallbacks:
    """What the story reports as it goes; each defaults to ignoring it."""

    ready: Callable[[float], None] = _ignore  # the lab's server is up after this many seconds
    note: Callable[[str], None] = _ignore  # a caveat about how the story is told
    triage_started: Callable[[str, str], None] = _ignore  # target name, phase
    map_started: Callable[[], None] = _ignore
    run: Callable[[RunRecord], None] = _ignore  # one probe run, after the log lines it produced
    batch: Callable[[list], None] = _ignore  # log events as the session folded them


@dataclass
class Story:
    """How it ended: the triage's finding and the session's model of everything that was logged."""

    triage: TriageResult
    model: Model = field(repr=False)


def tell_story(lab: Lab, cfg: Config, on: StoryCallbacks | None = None, *, deadline: float = 5.0,
               vkr_debug: tuple[str, ...] = (), record_to: str | None = None) -> Story:
    """Start the lab, triage the probe's fence phase, run the map phase with and without the fix, stop."""
    from venustui.drivers import flag_table, lab_venus_driver
    from venustui.journal import Recorder

    on = on or StoryCallbacks()
    if not lab.installed():
        raise UserError(f"the lab is not installed in {lab.root} (run: venustui lab install)")
    recorder = Recorder(record_to, config=cfg.raw) if record_to else None
    session = Session([], cfg, follow=False, recorder=recorder)
    on.ready(lab.start(session.hub, vkr_debug=vkr_debug))
    session.act("lab", **lab.identity())
    runner = Runner(session.hub, deadline=deadline, **lab.runner_options())

    def pump() -> None:
        batch = session.pump(PUMP_SECONDS)
        while batch:
            on.batch(batch)
            batch = session.pump(PUMP_SECONDS)

    def after_run(record: RunRecord) -> None:
        pump()  # the run's log lines come before the run's row
        on.run(record)

    # Triage tries only the names this driver build knows; the catalogue is the fallback.
    table = flag_table(lab_venus_driver(lab), "VN_PERF")
    known = list(table) or None
    if known is None:
        on.note("the Venus driver's flag table could not be read; using the catalogue's names")
    try:
        on.triage_started(PROBE.name, STORY_PHASE)
        result = triage(runner, PROBE, phase=STORY_PHASE, known=known, bits=table or None, on_run=after_run)
        flag_sets = [runs.flags for runs in result.runs[:1]]
        if result.smallest:
            flag_sets.append(next(r.flags for r in result.runs if r.outcome.passed))
        on.map_started()
        for flags in flag_sets:
            after_run(runner.run(PROBE, flags, "map"))
    finally:
        lab.stop()
        time.sleep(0.1)  # the server's last lines, then the session's last batch
        pump()
        session.stop()
    return Story(result, session.model)
