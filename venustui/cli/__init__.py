"""The command line: ``venustui [COMMAND] …``.

Commands: tui (the default: a first word that is no command opens the TUI on it), watch, record,
decode, probe, triage, replay, report, export, lab and inspect (README.md shows them in use).
Each command group is a module here that adds its subparser (``add_…parser(sub)``, which sets
``run``) and runs it (``run(args, cfg, console)`` → exit code) by calling the core and printing.
Mistakes the user can fix end as one line ``venustui: …`` and exit 2; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rich.console import Console

from venustui import tuning

tuning.load_numpy_quietly()  # before any command's module loads numpy

from venustui import __version__  # noqa: E402
from venustui import config as config_mod  # noqa: E402
from venustui.cli import decode, diagnose, inspect, journal, lab, probe, sessions, tui, watch  # noqa: E402
from venustui.errors import UserError  # noqa: E402

# In the order --help lists them.
PARSERS = (
    tui.add_parser, watch.add_watch_parser, diagnose.add_parser, decode.add_parser, probe.add_probe_parser,
    probe.add_triage_parser, watch.add_record_parser, journal.add_replay_parser, journal.add_report_parser, lab.add_parser,
    inspect.add_parser, journal.add_export_parser, sessions.add_parser,
)


class _OneLineParser(argparse.ArgumentParser):
    """Usage mistakes as one line naming the argument and where the help is, not a usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> tuple[argparse.ArgumentParser, frozenset[str]]:
    """The whole parser, and the command names it knows."""
    top = _OneLineParser(
        prog="venustui",
        description="A live monitor for debugging Venus (Mesa's virtio-gpu Vulkan driver) and virglrenderer.",
    )
    top.add_argument("--version", action="version", version=f"venustui {__version__}")
    top.add_argument("--config", metavar="FILE", help="configuration file (default: "
                     "$XDG_CONFIG_HOME/venustui/config.toml)")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    for add in PARSERS:
        add(sub)
    return top, frozenset(sub.choices)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, commands = _parser()
    # A first word that names a subcommand is the subcommand; anything else opens the TUI on it.
    at = 0
    while at < len(argv) and argv[at] in ("--config",) or at < len(argv) and argv[at].startswith("--config="):
        at += 1 if "=" in argv[at] else 2
    rest = argv[at:]
    if not (rest and (rest[0] in commands or rest[0] in ("-h", "--help", "--version"))):
        argv.insert(at, "tui")
    args = parser.parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    try:
        if args.command is None:
            parser.print_help()
            return 2
        cfg = config_mod.load(args.config)
        return args.run(args, cfg, console)
    except UserError as exc:
        print(f"venustui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("venustui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into head or less that closed early: nothing left to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
