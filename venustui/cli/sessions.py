"""``venustui sessions [list | open N | prune --keep N]``: the sessions the TUI recorded (the state folder's
sessions/), newest first: list them, open one in the TUI (as ``replay`` does), or keep the newest N."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from venustui import paths
from venustui.config import Config
from venustui.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser("sessions", help="the recorded TUI sessions: list, open one, or prune the oldest")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", help="newest first, numbered (the default)")
    opener = actions.add_parser("open", help="replay session N of the list in the TUI")
    opener.add_argument("number", type=int, metavar="N")
    pruner = actions.add_parser("prune", help="delete all but the newest N sessions")
    pruner.add_argument("--keep", type=int, required=True, metavar="N")
    p.set_defaults(run=run)


def _pick(number: int) -> Path:
    found = paths.recorded_sessions()
    if not 1 <= number <= len(found):
        raise UserError(f"sessions open {number}: there are {len(found)} recorded session(s) "
                        "(venustui sessions list numbers them)")
    return found[number - 1]


def run(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    action = args.action or "list"
    if action == "list":
        found = paths.recorded_sessions()
        if not found:
            print(f"no recorded sessions in {paths.sessions_dir()}")
            return 0
        for number, path in enumerate(found, 1):
            stat = path.stat()
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(stat.st_mtime))
            print(f"{number:3d}  {path.name}  {stat.st_size / 1e6:8.1f} MB  last written {when}")
        return 0
    if action == "open":
        from venustui.cli.journal import run_replay

        replay_args = argparse.Namespace(journal=str(_pick(args.number)), fast=False, speed=None, until=None,
                                         summary=False, rederive=False)
        return run_replay(replay_args, cfg, console)
    if args.keep < 0:
        raise UserError(f"sessions prune --keep {args.keep}: give how many of the newest to keep (0 or more)")
    gone = paths.recorded_sessions()[args.keep:]
    freed = 0
    for path in gone:
        freed += path.stat().st_size
        path.unlink()
    print(f"removed {len(gone)} session(s), {freed / 1e6:.1f} MB; kept the newest {args.keep}")
    return 0
