"""``venustui replay``, ``report`` and ``export``: a recorded journal fed back through the live
path (to the TUI or as text), rendered as a Markdown or HTML report, or dumped as JSON lines."""

from __future__ import annotations

import argparse
import json
import math
import sys

from rich.console import Console

from venustui import textview
from venustui.cli.common import need_terminal, print_summary
from venustui.config import Config
from venustui.errors import UserError
from venustui.parse import Parser
from venustui.session import Session

SPEED_RANGE = (0.001, 1_000_000.0)  # slower than a thousandth, a second of log takes over 16 minutes


def add_replay_parser(sub) -> None:
    rep = sub.add_parser("replay", help="feed a journal through the same path as live input")
    rep.add_argument("journal", metavar="FILE")
    pace = rep.add_mutually_exclusive_group()
    pace.add_argument("--fast", action="store_true", help="as fast as possible")
    pace.add_argument("--speed", type=_speed, metavar="N", help="N times the recorded pace (default 1)")
    rep.add_argument("--until", metavar="TIME|SEQ", help="stop at this many seconds in (e.g. 12.5s) or at this "
                     "sequence number (e.g. 4000)")
    rep.add_argument("--summary", action="store_true", help="print only the summary and findings")
    _add_rederive(rep)
    rep.set_defaults(run=run_replay)


def _add_rederive(parser) -> None:
    parser.add_argument("--rederive", action="store_true",
                        help="fold every recorded line again although the journal holds the state its session "
                             "closed with, and check that the two agree (exit 1 if not)")


def add_report_parser(sub) -> None:
    report = sub.add_parser("report", help="a Markdown or HTML report of a journal for a bug tracker")
    report.add_argument("journal", metavar="FILE")
    report.add_argument("-o", "--output", metavar="OUT", help="report.md or report.html (default: Markdown to stdout)")
    _add_rederive(report)
    report.set_defaults(run=run_report)


def add_export_parser(sub) -> None:
    export = sub.add_parser("export", help="a journal as JSON lines")
    export.add_argument("journal", metavar="FILE")
    export.add_argument("--jsonl", action="store_true", required=True, help="one JSON object per event")
    export.set_defaults(run=run_export)


def _speed(text: str) -> float:
    """--speed N: a finite factor of the recorded pace."""
    try:
        speed = float(text)
    except ValueError:
        speed = math.nan
    low, high = SPEED_RANGE
    if not low <= speed <= high:  # nan fails both comparisons
        raise argparse.ArgumentTypeError(f"{text}: give a factor of the recorded pace from {low:g} to {high:g} "
                                         "(e.g. 0.5, 2 or 10; --fast for no waits)")
    return speed


def _parse_until(text: str | None) -> tuple[int | None, float | None]:
    """--until as (sequence number, seconds): one of them, or neither when not given."""
    if text is None:
        return None, None
    raw = text.strip().lower()
    try:
        if raw.endswith("s"):
            seconds = float(raw[:-1])
            if math.isfinite(seconds) and seconds >= 0:
                return None, seconds
        elif int(raw) >= 1:
            return int(raw), None
    except ValueError:
        pass
    raise UserError(f"--until {text}: give seconds like 12.5s or a sequence number like 4000")


def run_replay(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    from venustui.journal import Journal
    from venustui.session import EndState, replay, replay_to_end

    journal = Journal.open(args.journal)
    until_seq, until_time = _parse_until(args.until)
    session = Session([], cfg, follow=False)
    if args.rederive and not (args.summary and args.until is None):
        raise UserError("--rederive checks the end state a summary reports: give it with --summary and no --until")
    if args.summary and args.until is None:
        try:
            end = replay_to_end(journal, session, rederive=args.rederive)
        except KeyboardInterrupt:  # the summary of what was folded so far
            end = EndState(False, "interrupted: the summary covers what was folded before Ctrl-C")
        print_summary(console, session.model)
        return _end_said(journal, end)
    if not (args.summary or args.fast or args.until):
        need_terminal("venustui replay --fast JOURNAL")
        # Textual loads here only: the rest of the command line runs without it.
        from venustui.cli.tui import open_picked
        from venustui.control import Control
        from venustui.tui.app import VenusApp

        control = Control(session, readonly=True)
        control.start_replay(journal, args.speed or 1.0)
        picked = VenusApp(control, subtitle=f"replay of {journal.path.name}").run()
        _journal_problems(journal)
        return open_picked(picked, cfg, console)
    printer = textview.EventPrinter(sys.stdout, Parser(cfg.rules, cfg.mesa_version), color=console.is_terminal)
    quiet = args.summary

    def show(event, records):
        if not quiet:
            printer.batch([(event, records)])

    speed = None if args.fast or args.summary else (args.speed or 1.0)
    try:
        replay(journal, session, speed=speed, until_seq=until_seq, until_time=until_time,
               on_event=None if quiet else show)  # no callback: the batched path
    except KeyboardInterrupt:
        pass
    print_summary(console, session.model)
    _journal_problems(journal)
    return 0


def run_report(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    from venustui.diagnose import diagnose
    from venustui.journal import Journal
    from venustui.report import build, to_html, to_markdown
    from venustui.session import replay_to_end

    journal = Journal.open(args.journal)
    session = Session([], cfg, follow=False)
    end = replay_to_end(journal, session, rederive=args.rederive)
    blocks = build(session.model, diagnose(session.model), journal.header, unreadable=journal.unreadable,
                   stopped=journal.status.get("stopped", ""))
    text = to_markdown(blocks)
    if args.output:
        out = to_html(blocks) if args.output.endswith((".html", ".htm")) else text
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(out)
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror} (choose a writable path)") from None
        print(f"report written to {args.output}")
    else:
        sys.stdout.write(text)
    return _end_said(journal, end)


def run_export(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    from venustui.journal import Journal, export_rows

    journal = Journal.open(args.journal)
    for row in export_rows(journal):
        print(json.dumps(row))
    _journal_problems(journal)
    return 0


def _end_said(journal, end) -> int:
    """Say on stderr how the end state was reached (when it matters) and what of the journal was unreadable;
    the exit status: 1 when folding again disagreed with the recorded closing state."""
    if end.stored:
        print(f"venustui: {journal.path}: the state its session closed with, as recorded (--rederive folds every "
              "line again)", file=sys.stderr)
    elif end.note:
        print(f"venustui: {journal.path}: {end.note}", file=sys.stderr)
    _journal_problems(journal)
    return 1 if end.differs else 0


def _journal_problems(journal) -> None:
    """Say on stderr what of the journal could not be read, and whether its recording stopped early."""
    if journal.unreadable:
        print(f"venustui: {journal.path}: {journal.unreadable} recorded item(s) could not be read and were "
              f"skipped ({'; '.join(journal.problems) or 'damaged records'}); the rest was replayed", file=sys.stderr)
    elif journal.problems:
        print(f"venustui: {journal.path}: damaged, but every recorded line was read ({'; '.join(journal.problems)})",
              file=sys.stderr)
    if "stopped" in journal.status:
        print(f"venustui: {journal.path}: recording stopped early: {journal.status['stopped']}", file=sys.stderr)
