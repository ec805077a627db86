"""``venustui tui`` (also what a first word that is no command opens): the live monitor on the
given sources, the config's, or the lab when there are none; records the session unless told not to."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from venustui import paths
from venustui.cli.common import need_terminal
from venustui.config import Config
from venustui.errors import UserError
from venustui.session import Session
from venustui.sources_config import resolve_sources

SESSION_CAP = 1 << 30  # a recorded TUI session stops recording at 1 GiB of raw input


def add_parser(sub) -> None:
    tui = sub.add_parser("tui", help="the live monitor (the default command): sources, else the config's, else the lab",
                         description="The terminal UI on SOURCE… (or the config's sources, or the lab when there are "
                         "none). Records the session to $XDG_STATE_HOME/venustui/sessions/ unless --no-record.")
    tui.add_argument("sources", nargs="*", metavar="SOURCE")
    tui.add_argument("--no-record", action="store_true", help="do not record this session")
    tui.add_argument("--theme", default="venus-dark", help="venus-dark, venus-light or venus-high-contrast")
    tui.add_argument("--deadline", type=float, default=5.0, help="seconds without progress = hung, for reruns")
    tui.add_argument("--target", help="a [targets.NAME] from the config to rerun (default: the probe)")
    tui.add_argument("--mesa", metavar="SERIES", help="on the lab: the Mesa series of the pair (25.0, 26.1, 26.2…)")
    tui.add_argument("--virglrenderer", metavar="SERIES", help="on the lab: the virglrenderer series of the pair")
    tui.add_argument("--scenario", help="on the lab: play a fault scenario at start (venustui lab scenarios)")
    tui.add_argument("--vmm", choices=("qemu", "vtest"), default="qemu", help="on the lab: a QEMU guest (default) "
                     "or Venus over vtest")
    tui.set_defaults(run=run)


def session_journal_path() -> Path:
    """Where a TUI session is recorded: the state folder's sessions/ ($XDG_STATE_HOME/venustui/sessions/ on
    Linux, ~/Library/Application Support/venustui/sessions/ on macOS), named by the time."""
    return paths.sessions_dir() / time.strftime("%Y%m%d-%H%M%S.vtj")


def run(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    # Textual loads here only: the rest of the command line runs without it.
    from venustui.control import Control
    from venustui.journal import Recorder
    from venustui.lab import Lab
    from venustui.targets import resolve_target
    from venustui.tui.app import VenusApp

    specs = resolve_sources(args.sources, cfg, required=False)
    lab = None
    if not specs:
        from venustui.cli.lab import chosen_pair

        lab = Lab(pair=chosen_pair(args), vmm=args.vmm)
        if not lab.installed():
            if lab.pairs():
                lab.require()  # the one-line error naming the pair and its install command
            raise UserError("no sources and no lab: give SOURCE…, set 'sources' in the config, or run "
                            "venustui lab install (make demo does)")
    need_terminal("venustui watch SOURCE…")
    target = resolve_target(cfg, args.target)
    recorder = None
    if not args.no_record:
        recorder = Recorder(session_journal_path(), sources=specs, config=cfg.raw, max_bytes=SESSION_CAP)
    session = Session(specs, cfg, follow=True, recorder=recorder)
    control = Control(session, lab=lab, target=target, deadline=args.deadline)
    control.start()
    if lab is not None and args.scenario:
        control.play_scenario(args.scenario)
    what = f"the lab ({lab.pair.id}, {lab.vmm})" if lab is not None else ", ".join(s.label for s in specs)
    try:
        picked = VenusApp(control, theme_name=args.theme, subtitle=what).run()
    finally:
        control.stop()
    if recorder is not None:
        print(f"session recorded to {recorder.path}" + (f" (stopped early: {recorder.stopped})" if recorder.stopped
                                                         else ""))
    return open_picked(picked, cfg, console)


def open_picked(picked, cfg: Config, console: Console) -> int:
    """A session picked in the TUI (S): replayed in a TUI of its own once this one has closed."""
    if not (isinstance(picked, tuple) and picked[0] == "replay"):
        return 0
    from venustui.cli.journal import run_replay

    return run_replay(argparse.Namespace(journal=picked[1], fast=False, speed=None, until=None, summary=False, rederive=False),
                      cfg, console)
