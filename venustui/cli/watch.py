"""``venustui watch`` and ``venustui record``: run a headless session over the sources until they
end, go idle, or Ctrl-C/SIGTERM; watch prints events and a summary, record writes a journal."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from rich.console import Console

from venustui import textview
from venustui.cli.common import print_summary
from venustui.config import Config
from venustui.errors import UserError
from venustui.parse import Parser
from venustui.session import Session
from venustui.sources import check_spec
from venustui.sources_config import resolve_sources


def add_watch_parser(sub) -> None:
    watch = sub.add_parser("watch", help="headless live view: parsed events as they come, a summary at exit",
                           description="Print parsed events as sources produce them; at exit (all sources "
                           "ended, or Ctrl-C) print a summary of runs, devices, queues, fences, the ring and "
                           "repeated handles. SOURCE is [LABEL=]PATH, a glob, '-' (stdin) or [LABEL=]cmd:ARGV.")
    watch.add_argument("sources", nargs="*", metavar="SOURCE")
    watch.add_argument("-n", "--no-follow", action="store_true",
                       help="read files to their end and stop, instead of following them")
    watch.add_argument("--idle-exit", type=float, metavar="SECONDS",
                       help="stop once nothing new has arrived for this long")
    watch.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    watch.set_defaults(run=run_watch)


def add_record_parser(sub) -> None:
    rec = sub.add_parser("record", help="record sources to a journal file, headless")
    rec.add_argument("-o", "--output", required=True, metavar="FILE", help="the journal to write")
    rec.add_argument("sources", nargs="*", metavar="SOURCE")
    rec.add_argument("-n", "--no-follow", action="store_true", help="read files to their end and stop")
    rec.add_argument("--idle-exit", type=float, metavar="SECONDS", help="stop after this long with nothing new")
    rec.add_argument("--force", action="store_true", help="replace FILE even if it is not a journal")
    rec.set_defaults(run=run_record)


def run_watch(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    session = _follow(args, cfg, console, recorder=None, show=not args.quiet)
    print_summary(console, session.model)
    return 0


def run_record(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    from venustui.journal import Recorder

    specs = resolve_sources(args.sources, cfg)
    for spec in specs:  # a source that can never be read leaves no journal behind
        check_spec(spec, follow=not args.no_follow)
    recorder = Recorder(args.output, sources=specs, config=cfg.raw, force=args.force)
    session = _follow(args, cfg, console, recorder=recorder, show=False, specs=specs)
    print(f"read {session.lines_taken:,} lines, recorded {recorder.lines_written:,} "
          f"({recorder.bytes_written:,} bytes) to {args.output}")
    if recorder.stopped:
        print(f"venustui record: recording stopped early: {recorder.stopped}; the session went on without it",
              file=sys.stderr)
        return 1
    return 0


class _Interrupts:
    """Ctrl-C and SIGTERM while a session runs: the first asks it to stop between batches (so a batch
    is never recorded but left unfolded), a second hurries the stop along."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.count = 0
        self._previous: dict = {}

    def __enter__(self) -> "_Interrupts":
        for number in self.SIGNALS:
            self._previous[number] = signal.signal(number, self._on_signal)
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _on_signal(self, signum, frame) -> None:
        self.count += 1

    @property
    def stop(self) -> bool:
        return self.count > 0

    def hurry(self) -> bool:
        return self.count > 1


def _follow(args: argparse.Namespace, cfg: Config, console: Console, *, recorder, show: bool,
            specs=None) -> Session:
    """Run a session over the sources until they end, it goes idle, or Ctrl-C/SIGTERM."""
    specs = specs or resolve_sources(args.sources, cfg)
    session = Session(specs, cfg, follow=not args.no_follow, recorder=recorder)
    display = Parser(cfg.rules, cfg.mesa_version)  # parses untracked lines for printing only
    printer = textview.EventPrinter(sys.stdout, display, color=console.is_terminal) if show else None
    with _Interrupts() as interrupts:
        try:
            session.start()
        except UserError:
            if recorder is not None:
                recorder.close()
            raise
        last_event = time.monotonic()
        try:
            while not session.finished and not interrupts.stop:
                batch = session.pump(0.1)
                if batch:
                    last_event = time.monotonic()
                elif args.idle_exit is not None and time.monotonic() - last_event >= args.idle_exit:
                    break
                if printer is not None:
                    printer.batch(batch)
        finally:
            # Folds (and records) what was read before the stop, for a few seconds at most: the rest is
            # recorded and counted as not folded.
            session.stop(hurry=interrupts.hurry)
            if printer is not None:
                printer.flush()
    if session.lines_unfolded:
        print(f"venustui: stopped before folding the last {session.lines_unfolded:,} of "
              f"{session.lines_taken:,} lines read; the summary leaves them out"
              + (" (they are in the journal)" if recorder is not None else ""), file=sys.stderr)
    return session
