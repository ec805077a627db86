"""What a screen drives, without Textual: one object that composes the parts a screen needs.

Each job is its own object: the ``Follower`` (fold thread, lock, version, line store), the
``JobRunner`` (one background job at a time, typed status), the flags, the target ``Runner``,
and in a replay only, the ``ReplayController``. The TUI calls the actions here and reads the
model under ``lock``; tests drive the same object headless. Every action is also an event in
the session, so a recording holds it and a replay shows it.
"""

from __future__ import annotations

from collections import deque

from venustui.drivers import known_flags, lab_driver_facts
from venustui.flags import FlagSet
from venustui.follower import Follower
from venustui.jobs import JobRunner
from venustui.probe.runner import PROBE, Runner, Target
from venustui.replaycontrol import ReplayController
from venustui.session import Session
from venustui.triage import triage


class Control:
    def __init__(self, session: Session, *, lab=None, target: Target = PROBE, deadline: float = 5.0,
                 base_env: dict | None = None, driver_files: str | None = None, readonly: bool = False):
        self.follower = Follower(session)
        self.readonly = readonly  # a replayed journal: nothing is rerun or marked
        self.lab = lab
        self.target = target
        self.flags = FlagSet()
        self.messages: deque[str] = deque(maxlen=50)
        self.jobs = JobRunner(self.messages.append)
        self.replayer: ReplayController | None = None  # only in a replay
        self._driver_facts: list[dict] | None = None  # the lab's driver does not change under a session
        options = lab.runner_options() if lab is not None else {"base_env": base_env, "driver_files": driver_files}
        self.runner = Runner(session.hub, deadline=deadline, **options)

    # what the screen reads ----------------------------------------------------------
    @property
    def session(self) -> Session:
        return self.follower.session

    @property
    def lines(self):
        return self.follower.lines

    @property
    def lock(self):
        return self.follower.lock

    @property
    def version(self) -> int:
        return self.follower.version

    @property
    def busy(self) -> str:
        return self.jobs.busy

    # lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.follower.start()
        if self.lab is not None:
            seconds = self.lab.start(self.session.hub)
            self.session.act("lab", **self.lab.identity())
            self.messages.append(f"lab '{self.lab.name}' up in {seconds:.2f} s on {self.lab.pair.id}")

    def fold(self, events) -> None:
        self.follower.fold(events)

    def fold_one(self, event) -> list:
        return self.follower.fold_one(event)

    def stop(self) -> None:
        """End every thread and process this started: target runs, the replay, jobs, the lab, the fold."""
        self.runner.stop()
        if self.replayer is not None:
            self.replayer.stop()
        self.jobs.join()
        if self.lab is not None:
            self.lab.stop()
        self.follower.stop()

    # actions --------------------------------------------------------------------------
    def toggle(self, variable: str, name: str) -> FlagSet:
        self.flags = self.flags.toggled(variable, name)
        self.session.act("toggle", variable=variable, name=name, flags=self.flags.describe())
        if variable == "VKR_DEBUG" and self.lab is not None:
            names = self.flags.vkr_debug
            # The render server reads VKR_DEBUG when it starts: the lab's server starts again.
            self._background("restarting the lab's server",
                             lambda: self.messages.append(
                                 f"lab server restarted with VKR_DEBUG={','.join(names) or '(none)'} in "
                                 f"{self.lab.restart(self.session.hub, vkr_debug=names):.2f} s"))
        return self.flags

    def _background(self, what: str, work) -> bool:
        if self.readonly:
            self.messages.append(f"{what}: this is a replay (read-only)")
            return False
        if not self.jobs.start(what, work):
            self.messages.append(f"busy ({self.jobs.busy}); try again when it ends")
            return False
        return True

    def rerun(self) -> bool:
        """Run the target's phases with the current flags."""
        flags = self.flags
        self.session.act("rerun", target=self.target.name, flags=flags.describe())

        def work():
            for phase in self.target.phases:
                record = self.runner.run(self.target, flags, phase)
                self.messages.append(f"run #{record.run} {phase}: {record.outcome.text()}")
        return self._background(f"rerun with {flags.describe()}", work)

    def probe_now(self) -> bool:
        flags = self.flags
        self.session.act("probe", flags=flags.describe())

        def work():
            record = self.runner.run(PROBE, flags, "fence")
            self.messages.append(f"probe #{record.run}: {record.outcome.text()}")
        return self._background("probe", work)

    WATCH_JOB = "probe --watch"

    def watch_probe(self) -> str:
        """Start or stop a probe that resubmits every half second and streams fence and slot samples."""
        if self.jobs.busy == self.WATCH_JOB:
            self.runner.stop()
            return "probe watch stopped"
        flags = self.flags
        self.session.act("probe-watch", flags=flags.describe())

        def work():
            record = self.runner.run(PROBE, flags, "map", watch=0.5)
            self.messages.append(f"probe watch #{record.run} ended: {record.outcome.text()}")
        return "probe watch started (W stops it)" if self._background(self.WATCH_JOB, work) else "busy"

    def triage(self) -> bool:
        self.session.act("triage", target=self.target.name)

        def work():
            result = triage(self.runner, self.target, phase=self.target.phases[0])
            self.messages.append(result.finding())
        return self._background("triage", work)

    def play_scenario(self, name: str) -> bool:
        """Restart the lab as a fault scenario (lab_scenarios) and play its runs; the findings then show it."""
        from venustui.lab import Lab
        from venustui.lab_scenarios import play, scenario

        if self.readonly or self.lab is None:
            self.messages.append("scenarios need the lab (venustui with no sources), not a replay or a user's logs")
            return False
        chosen = scenario(name)

        def work():
            self.lab.stop()
            self.lab = chosen.lab(self.lab if isinstance(self.lab, Lab) else Lab())
            self._driver_facts = None
            seconds = self.lab.start(self.session.hub, vkr_debug=chosen.vkr_debug)
            self.session.act("lab", **self.lab.identity())
            self.messages.append(f"scenario {name}: lab up in {seconds:.1f} s on {self.lab.describe()}")
            self.runner = Runner(self.session.hub, deadline=self.runner.deadline, **self.lab.runner_options())
            for record in play(chosen, self.lab, self.runner):
                self.messages.append(f"run #{record.run} {record.phase}: {record.outcome.text()}")
        return self._background(f"scenario {name}", work)

    def mark(self, seq: int, note: str) -> bool:
        if self.readonly:
            self.messages.append("mark: this is a replay (read-only)")
            return False
        self.session.act("mark", seq=seq, note=note)
        return True

    def start_replay(self, journal, speed: float | None) -> ReplayController:
        """Feed a journal into the screen at the recorded pace times speed (None: as fast as it folds)."""
        self.replayer = ReplayController(self.follower, journal, speed, self.messages.append)
        self.replayer.start()
        return self.replayer

    def toggle_recording(self) -> str:
        recorder = self.session.recorder
        if recorder is None:
            return "not recording (started with --no-record)"
        recorder.paused = not recorder.paused
        self.session.act("recording", paused=recorder.paused)
        return "recording paused" if recorder.paused else f"recording to {recorder.path}"

    def versions(self) -> dict[str, str]:
        """Versions the findings may rely on: the lab's virglrenderer and Mesa, when the session is the lab."""
        return self.lab.versions() if self.lab is not None else {}

    def setup(self) -> str:
        """The lab pair this session runs on, in words ("" without a lab)."""
        return self.lab.describe() if self.lab is not None and self.lab.installed() else ""

    def driver_facts(self) -> list[dict]:
        """ELF facts of the Venus driver and render server in use (the lab's), for the driver pane."""
        if self._driver_facts is None:
            self._driver_facts = lab_driver_facts(self.lab)
        return self._driver_facts

    def missing_flag(self, variable: str, name: str) -> str:
        """Why the loaded driver would ignore this name ("" when it knows it, or its table cannot be read)."""
        from venustui.flags import check_names
        from venustui.parse.venus_flags import parse_version

        tables = [entry for entry in self.driver_facts() if variable in entry.get("flags", {})]
        if not tables:
            return ""
        entry = tables[0]
        if name in {f["name"] for f in entry["flags"][variable]}:
            return ""
        mesa = entry.get("mesa_version", "")
        # The catalogue says why, by version ("gone in Mesa 26.2: fences are guest-side renderer syncs there").
        problem = check_names(variable, [name], parse_version(mesa) if mesa else None)[0].problem
        why = (f"{name} does not exist in this Mesa ({mesa or 'version unknown'}): the driver's own {variable} "
               f"table lacks it, and Mesa ignores unknown names silently" + (f"; {problem}" if problem else ""))
        if name == "no_fence_feedback":
            why += ". The fence phase needs no toggle here: r runs it with the defaults"
        return why

    def known_flags(self) -> dict[str, list[str]]:
        """The flag names a picker offers: the loaded driver's own where it can be read, else the catalogue."""
        return known_flags(self.driver_facts())
