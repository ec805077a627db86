"""The command line: ``venustui watch`` and ``venustui decode`` (DESIGN.md's table names them all)."""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
import signal
import sys
import time
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from venustui import __version__, config as config_mod
from venustui import handles as H
from venustui.errors import UserError
from venustui.events import Notice, RunEvent
from venustui.parse import Parser, find_handles
from venustui.parse.text import decode as decode_text
from venustui.session import Session, fold_files
from venustui.sources import check_spec, parse_spec
from venustui import textview



class _OneLineParser(argparse.ArgumentParser):
    """Usage mistakes as one line naming the argument and where the help is, not a usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    top = _OneLineParser(
        prog="venustui",
        description="A live monitor for debugging Venus (Mesa's virtio-gpu Vulkan driver) and virglrenderer.",
    )
    top.add_argument("--version", action="version", version=f"venustui {__version__}")
    top.add_argument("--config", metavar="FILE", help="configuration file (default: "
                     "$XDG_CONFIG_HOME/venustui/config.toml)")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)

    tui = sub.add_parser("tui", help="the live monitor (the default command): sources, else the config's, else the lab",
                         description="The terminal UI on SOURCE… (or the config's sources, or the lab when there are "
                         "none). Records the session to $XDG_STATE_HOME/venustui/sessions/ unless --no-record.")
    tui.add_argument("sources", nargs="*", metavar="SOURCE")
    tui.add_argument("--no-record", action="store_true", help="do not record this session")
    tui.add_argument("--theme", default="venus-dark", help="venus-dark, venus-light or venus-high-contrast")
    tui.add_argument("--deadline", type=float, default=5.0, help="seconds without progress = hung, for reruns")
    tui.add_argument("--target", help="a [targets.NAME] from the config to rerun (default: the probe)")

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

    dec = sub.add_parser("decode", help="what a 64-bit handle value could be, ranked, with a bit diagram")
    dec.add_argument("values", nargs="+", metavar="HANDLE", help="hex (0x50000000005) or decimal")
    dec.add_argument("--json", action="store_true", help="machine-readable output")
    dec.add_argument("--log", action="append", default=[], metavar="FILE",
                     help="also say where the value appears in this log (repeatable)")
    probe = sub.add_parser("probe", help="run the Vulkan probe: the seed's fence steps and the feedback-slot "
                           "experiment, each phase in its own process")
    probe.add_argument("--json", action="store_true", help="one JSON object per phase run")
    probe.add_argument("--phase", default="fence,map", help="fence, map or fence,map (default)")
    probe.add_argument("--watch", type=float, metavar="SECONDS",
                       help="keep resubmitting every SECONDS and stream fence (and slot) samples until Ctrl-C")
    probe.add_argument("--deadline", type=float, default=5.0,
                       help="seconds without progress before a phase counts as hung (default 5)")

    tri = sub.add_parser("triage", help="A/B runs and the smallest VN_PERF set that makes the failing phase pass",
                         description="Run the target with the defaults, then with candidate VN_PERF names "
                         "(feedback flags first), and report the smallest set that makes the phase pass. "
                         "The target is the probe unless --target names one from the config or ARGV follows --.")
    tri.add_argument("--deadline", type=float, default=5.0, help="seconds without progress = hung (default 5)")
    tri.add_argument("--flags", help="comma-separated VN_PERF names to try instead of the catalogue")
    tri.add_argument("--phase", help="the phase under test (default: fence)")
    tri.add_argument("--target", help="a target from the config's [targets.NAME]")
    tri.add_argument("--json", action="store_true", help="the runs and the finding as JSON")
    tri.add_argument("argv", nargs=argparse.REMAINDER, help="-- PROGRAM ARGS… ({VN_PERF} is filled in)")

    rec = sub.add_parser("record", help="record sources to a journal file, headless")
    rec.add_argument("-o", "--output", required=True, metavar="FILE", help="the journal to write")
    rec.add_argument("sources", nargs="*", metavar="SOURCE")
    rec.add_argument("-n", "--no-follow", action="store_true", help="read files to their end and stop")
    rec.add_argument("--idle-exit", type=float, metavar="SECONDS", help="stop after this long with nothing new")
    rec.add_argument("--force", action="store_true", help="replace FILE even if it is not a journal")

    rep = sub.add_parser("replay", help="feed a journal through the same path as live input")
    rep.add_argument("journal", metavar="FILE")
    pace = rep.add_mutually_exclusive_group()
    pace.add_argument("--fast", action="store_true", help="as fast as possible")
    pace.add_argument("--speed", type=_speed, metavar="N", help="N times the recorded pace (default 1)")
    rep.add_argument("--until", metavar="TIME|SEQ", help="stop at this many seconds in (e.g. 12.5s) or at this "
                     "sequence number (e.g. 4000)")
    rep.add_argument("--summary", action="store_true", help="print only the summary and findings")

    report = sub.add_parser("report", help="a Markdown or HTML report of a journal for a bug tracker")
    report.add_argument("journal", metavar="FILE")
    report.add_argument("-o", "--output", metavar="OUT", help="report.md or report.html (default: Markdown to stdout)")

    lab = sub.add_parser("lab", help="the local Venus-over-vtest stack (install, doctor, up, down, status, triage)")
    lab.add_argument("--name", default="default", help="lab name: several labs can run side by side")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    inst = lab_sub.add_parser("install", help="install the lab's parts (Debian 13: packages; 12: private prefix)")
    inst.add_argument("--private", action="store_true", help="use a private prefix even on Debian 13")
    inst.add_argument("--force", action="store_true", help="install again even if installed")
    lab_sub.add_parser("doctor", help="check each part and say what to fix")
    up = lab_sub.add_parser("up", help="start the lab's server in the background")
    up.add_argument("--vkr-debug", default="", help="VKR_DEBUG names for the render server, e.g. validate or all")
    up.add_argument("--host-icd", help="an ICD manifest for the host driver instead of lavapipe")
    up.add_argument("--render-server", help="your own virgl_render_server build")
    lab_sub.add_parser("down", help="stop the lab's server and clean what a crashed session left")
    lab_sub.add_parser("status", help="what runs, where the socket and logs are")
    story = lab_sub.add_parser("triage", help="the story: probe phases with and without feedback flags, "
                               "triage, findings")
    story.add_argument("--deadline", type=float, default=5.0, help="seconds without progress = hung (default 5)")
    story.add_argument("--vkr-debug", default="", help="VKR_DEBUG names for the render server (validate, all)")
    story.add_argument("-q", "--quiet", action="store_true", help="only runs, summary and findings")
    story.add_argument("-o", "--output", metavar="FILE", help="also record the session to this journal")

    ins = sub.add_parser("inspect", help="driver facts: which binary is really loaded and what it understands")
    what = ins.add_mutually_exclusive_group()
    what.add_argument("path", nargs="?", help="a driver library or program")
    what.add_argument("--icd", metavar="NAME", help="the ICD manifests named NAME (virtio, lvp, …) as the loader finds them")
    what.add_argument("--render-server", action="store_true", help="the render server virglrenderer would fork")
    what.add_argument("--backtrace", metavar="LOG", help="symbolize the backtrace lines in a log file")
    ins.add_argument("--debug-dir", action="append", default=[], metavar="DIR",
                     help="also look for separate debug files here (besides /usr/lib/debug)")
    ins.add_argument("--base", action="append", default=[], metavar="LIB=0xADDR",
                     help="load base of a library, for absolute backtrace addresses")
    ins.add_argument("--json", action="store_true")

    export = sub.add_parser("export", help="a journal as JSON lines")
    export.add_argument("journal", metavar="FILE")
    export.add_argument("--jsonl", action="store_true", required=True, help="one JSON object per event")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # A first word that names a subcommand is the subcommand; anything else opens the TUI on it.
    at = 0
    while at < len(argv) and argv[at] in ("--config",) or at < len(argv) and argv[at].startswith("--config="):
        at += 1 if "=" in argv[at] else 2
    rest = argv[at:]
    if not (rest and (rest[0] in COMMANDS or rest[0] in ("-h", "--help", "--version"))):
        argv.insert(at, "tui")
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    try:
        if args.command is None:
            parser.print_help()
            return 2
        cfg = config_mod.load(args.config)
        return COMMANDS[args.command](args, cfg, console)
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


def _need_terminal(plain: str) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError(f"the TUI needs a terminal on stdin and stdout: run it in one (tmux works), "
                        f"or use '{plain}' for plain output")


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop()


def tui_cmd(args, cfg: config_mod.Config, console: Console) -> int:
    from venustui.control import Control
    from venustui.journal import Recorder
    from venustui.lab import Lab
    from venustui.probe.runner import PROBE, Target
    from venustui.tui.app import VenusApp

    texts = args.sources or list(cfg.sources)
    lab = None
    if not texts:
        lab = Lab()
        if not lab.installed():
            raise UserError("no sources and no lab: give SOURCE…, set 'sources' in the config, or run "
                            "venustui lab install (make demo does)")
    specs = [parse_spec(t) for t in texts]
    _need_terminal("venustui watch SOURCE…")
    target = PROBE
    if args.target:
        found = next((t for t in cfg.targets if t.name == args.target), None)
        if found is None:
            raise UserError(f"--target {args.target}: no such target in the config")
        target = Target(found.name, found.argv)
    recorder = None
    if not args.no_record:
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        path = Path(state) / "venustui" / "sessions" / time.strftime("%Y%m%d-%H%M%S.vtj")
        recorder = Recorder(path, sources=specs, config=cfg.raw, max_bytes=SESSION_CAP)
    session = Session(specs, cfg, follow=True, recorder=recorder)
    control = Control(session, lab=lab, target=target, deadline=args.deadline)
    control.start()
    what = "the lab" if lab is not None else ", ".join(s.label for s in specs)
    try:
        VenusApp(control, theme_name=args.theme, subtitle=what).run()
    finally:
        control.stop()
    if recorder is not None:
        print(f"session recorded to {recorder.path}" + (f" (stopped early: {recorder.stopped})" if recorder.stopped
                                                         else ""))
    return 0


SESSION_CAP = 1 << 30  # a recorded TUI session stops recording at 1 GiB of raw input


def watch(args, cfg: config_mod.Config, console: Console) -> int:
    session = _follow(args, cfg, console, recorder=None, show=not args.quiet)
    _print_summary(console, session.model)
    return 0


def record(args, cfg: config_mod.Config, console: Console) -> int:
    from venustui.journal import Recorder

    specs = _specs(args, cfg)
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


def _specs(args, cfg: config_mod.Config):
    texts = args.sources or list(cfg.sources)
    if not texts:
        raise UserError("no sources: give SOURCE… (a log file, a glob, '-' or cmd:ARGV) or set 'sources' "
                        "in the config file")
    return [parse_spec(t) for t in texts]


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


def _follow(args, cfg, console: Console, *, recorder, show: bool, specs=None) -> Session:
    """Run a session over the sources until they end, it goes idle, or Ctrl-C/SIGTERM."""
    specs = specs or _specs(args, cfg)
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


def _print_lines(console: Console, lines: list[Text]) -> None:
    """Many styled lines at once: one render on a terminal, plain text elsewhere (rich per line cost
    ~150 µs: a summary of thousands of runs took seconds)."""
    if not lines:
        return
    if console.is_terminal:
        console.print(Text("\n").join(lines))
    else:
        sys.stdout.write("".join(line.plain + "\n" for line in lines))
        sys.stdout.flush()


def _print_summary(console: Console, model) -> None:
    from venustui.diagnose import diagnose

    _print_lines(console, textview.summary(model) + textview.findings(diagnose(model)))


def _parse_until(text: str | None) -> tuple[int | None, float | None]:
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


SPEED_RANGE = (0.001, 1_000_000.0)  # slower than a thousandth, a second of log takes over 16 minutes


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


def replay_cmd(args, cfg: config_mod.Config, console: Console) -> int:
    from venustui.journal import Journal
    from venustui.session import replay

    journal = Journal.open(args.journal)
    until_seq, until_time = _parse_until(args.until)
    session = Session([], cfg, follow=False)
    if not (args.summary or args.fast or args.until):
        _need_terminal("venustui replay --fast JOURNAL")
        from venustui.control import Control
        from venustui.tui.app import VenusApp

        control = Control(session, readonly=True)
        control.replay(journal, args.speed or 1.0)
        VenusApp(control, subtitle=f"replay of {journal.path.name}").run()
        _journal_problems(journal)
        return 0
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
    _print_summary(console, session.model)
    _journal_problems(journal)
    return 0


def _journal_problems(journal) -> None:
    if journal.unreadable:
        print(f"venustui: {journal.path}: {journal.unreadable} recorded item(s) could not be read and were "
              f"skipped ({'; '.join(journal.problems) or 'damaged records'}); the rest was replayed", file=sys.stderr)
    elif journal.problems:
        print(f"venustui: {journal.path}: damaged, but every recorded line was read ({'; '.join(journal.problems)})",
              file=sys.stderr)
    if "stopped" in journal.status:
        print(f"venustui: {journal.path}: recording stopped early: {journal.status['stopped']}", file=sys.stderr)


def report_cmd(args, cfg: config_mod.Config, console: Console) -> int:
    from venustui.diagnose import diagnose
    from venustui.journal import Journal
    from venustui.report import build, to_html, to_markdown
    from venustui.session import replay

    journal = Journal.open(args.journal)
    session = Session([], cfg, follow=False)
    replay(journal, session)
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
    _journal_problems(journal)
    return 0


def export_cmd(args, cfg: config_mod.Config, console: Console) -> int:
    import base64

    from venustui.events import Chunk
    from venustui.journal import Action, Journal

    journal = Journal.open(args.journal)
    print(json.dumps({"type": "header", **journal.header, "status": journal.status}))
    for event in journal.events():
        if isinstance(event, Chunk):
            row = {"type": "chunk", "seq": event.seq, "source": event.source, "stream": event.stream,
                   "generation": event.generation, "offset": event.offset, "lines": event.count,
                   "partial": event.partial, "wall": event.wall, "mono": event.mono,
                   "text": event.data.decode("utf-8", "replace"),
                   "data_base64": base64.b64encode(event.data).decode()}
        elif isinstance(event, Notice):
            row = {"type": "notice", "seq": event.seq, "source": event.source, "stream": event.stream,
                   "kind": event.kind, "message": event.message, "wall": event.wall}
        elif isinstance(event, RunEvent):
            row = {"type": "run", "seq": event.seq, "kind": event.kind, "run": event.run, "data": event.data,
                   "wall": event.wall}
        else:
            assert isinstance(event, Action)
            row = {"type": "action", "seq": event.seq, "name": event.name, "data": event.data, "wall": event.wall}
        print(json.dumps(row))
    _journal_problems(journal)
    return 0


def decode(args, cfg: config_mod.Config, console: Console) -> int:
    values = [H.parse_value(v) for v in args.values]
    model = None
    if args.log:
        for path in args.log:
            parse_spec(path)  # same SOURCE rules; check_spec runs in the session
        model = fold_files(args.log, cfg)
    results = []
    for value in values:
        provenance = _provenance(value, args.log, model) if args.log else None
        if args.json:
            results.append({
                "value": f"0x{value:x}",
                "layouts": [H.as_dict(value, layout) for layout in H.decode(value)],
                **({"seen": provenance} if provenance is not None else {}),
            })
        else:
            rows = _provenance_rows(provenance) if provenance is not None else None
            for line in textview.decoding(value, rows):
                console.print(line)
            console.print()
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2))
    return 0


def _provenance(value: int, paths: list[str], model) -> dict:
    """Where a value appears: file:line hits, and the model's runs, devices and sources."""
    hits = []
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                if b"0x" not in raw and b"0X" not in raw:
                    continue
                text = decode_text(raw.rstrip(b"\n"))
                if value in find_handles(text):
                    total += 1
                    if len(hits) < 20:
                        hits.append({"file": path, "line": number, "text": text[:300]})
    seen = model.handles.get(value) if model else None
    return {
        "count": total,
        "hits": hits,
        "runs": sorted(seen.runs) if seen else [],
        "devices": [f"0x{d:x}" for d in sorted(seen.devices)] if seen else [],
        "sources": sorted(seen.sources) if seen else [],
        "roles": sorted(seen.roles) if seen else [],
    }


def _provenance_rows(p: dict) -> list[str]:
    if not p["count"]:
        return []
    rows = [f"{p['count']} line(s); runs {', '.join(map(str, p['runs'])) or '-'}; "
            f"devices {', '.join(p['devices']) or '-'}; sources {', '.join(p['sources']) or '-'}"
            + (f"; as {', '.join(p['roles'])}" if p["roles"] else "")]
    if len(p["runs"]) > 1 or len(p["devices"]) > 1:
        rows.append("the same value in several runs or devices: a counter or a wrapping layer, not a fresh pointer")
    rows += [f"{h['file']}:{h['line']}: {h['text']}" for h in p["hits"]]
    return rows


def _phases(text: str) -> list[str]:
    phases = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in phases if p not in ("fence", "map")]
    if bad or not phases:
        raise UserError(f"--phase {text}: unknown phase (use fence, map or fence,map)")
    return phases


def probe(args, cfg: config_mod.Config, console: Console) -> int:
    from venustui.probe.runner import NOT_STARTED, PROBE, Runner

    phases = _phases(args.phase)
    runner = Runner(deadline=args.deadline)
    if args.watch is not None:
        previous = signal.signal(signal.SIGTERM, _raise_stop)

        def show(event: dict) -> None:
            if event.get("ev") in ("sample", "step", "phase", "error"):
                console.print(textview.probe_event_text(event))

        try:
            runner.run(PROBE, phase=phases[0], watch=args.watch, on_event=show)
        except (KeyboardInterrupt, _Stop):
            runner.stop()
        finally:
            signal.signal(signal.SIGTERM, previous)
        return 0
    records = [runner.run(PROBE, phase=phase) for phase in phases]
    if args.json:
        for record in records:
            print(json.dumps(record.as_dict()))
    else:
        for record in records:
            for line in textview.probe_run(record):
                console.print(line)
    if any(r.outcome.status == NOT_STARTED for r in records):
        print(f"venustui probe: {records[0].outcome.detail}", file=sys.stderr)
        return 3
    return 0 if all(r.outcome.passed for r in records) else 1


def triage(args, cfg: config_mod.Config, console: Console) -> int:
    from venustui.parse.venus_flags import parse_version
    from venustui.probe.runner import PROBE, Runner, Target
    from venustui.triage import triage as run_triage

    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if argv and args.target:
        raise UserError("give either --target NAME or -- ARGV…, not both")
    if argv:
        target = Target("argv", tuple(argv))
    elif args.target:
        found = next((t for t in cfg.targets if t.name == args.target), None)
        if found is None:
            names = ", ".join(t.name for t in cfg.targets) or "none configured"
            raise UserError(f"--target {args.target}: no such target in the config (known: probe, {names})")
        target = Target(found.name, found.argv)
    else:
        target = PROBE
    phase = args.phase or "fence"
    if phase not in target.phases:
        raise UserError(f"--phase {phase}: target {target.name} has phases {', '.join(target.phases)}")
    names = [n.strip() for n in args.flags.split(",") if n.strip()] if args.flags else None
    version = parse_version(cfg.mesa_version) if cfg.mesa_version else None
    runner = Runner(deadline=args.deadline)

    def progress(record) -> None:
        if not args.json:
            console.print(textview.triage_row(record))

    if not args.json:
        console.print(textview.triage_header(target.name, phase))
    try:
        result = run_triage(runner, target, phase=phase, names=names, version=version, on_run=progress)
    except (KeyboardInterrupt, _Stop):
        runner.stop()
        raise UserError("triage interrupted; the target's process group was ended") from None
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        for line in textview.triage_summary(result):
            console.print(line)
    return 0 if result.smallest is not None or result.runs[0].outcome.passed else 1


def lab_cmd(args, cfg: config_mod.Config, console: Console) -> int:
    from venustui.lab import Lab

    lab = Lab(args.name)
    action = args.lab_command
    if action == "install":
        lab.install(private=True if args.private else None, force=args.force,
                    progress=lambda line: console.print(Text("lab: " + line)))
        return 0
    if action == "doctor":
        checks = lab.doctor()
        for check in checks:
            mark = "ok " if check.ok else "FIX"
            line = Text(f"{mark} {check.part:<20} {check.detail}", style="" if check.ok else "red")
            if not check.ok and check.fix:
                line.append(f"  → {check.fix}", style="yellow")
            console.print(line)
        return 0 if all(c.ok for c in checks) else 1
    if action == "up":
        seconds = lab.start(vkr_debug=_names(args.vkr_debug), host_icd=args.host_icd,
                            render_server=args.render_server)
        console.print(Text(f"lab '{lab.name}' up in {seconds:.2f} s: socket {lab.socket_path}, logs "
                           f"{lab.runtime}/host.stdout.log and host.stderr.log"))
        console.print(Text(f"guest: VTEST_SOCKET_NAME={lab.socket_path} "
                           f"VK_DRIVER_FILES={lab.manifest['virtio_icd']} VN_DEBUG=vtest"
                           + (f" LD_LIBRARY_PATH={lab.manifest['lib_dir']}" if lab.manifest.get("lib_dir") else "")))
        return 0
    if action == "down":
        cleaned = lab.clean_stale()
        how = lab.stop()
        console.print(Text(f"lab '{lab.name}': {how}" + (f"; removed {', '.join(cleaned)}" if cleaned else "")))
        return 0
    if action == "status":
        pid = lab.running_pid()
        m = lab.manifest
        console.print(Text(f"lab '{lab.name}': {'running, pid ' + str(pid) if pid else 'not running'}; "
                           f"installed: {m.get('mode', 'no')} in {lab.root}; socket {lab.socket_path}"))
        return 0
    return lab_story(lab, args, cfg, console)


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def lab_story(lab, args, cfg: config_mod.Config, console: Console) -> int:
    """default flags → the fence phase hangs; triage finds the flag; the map phase shows why."""
    from venustui.journal import Recorder
    from venustui.probe.runner import PROBE, Runner
    from venustui.triage import triage as run_triage

    if not lab.installed():
        raise UserError(f"the lab is not installed in {lab.root} (run: venustui lab install)")
    recorder = Recorder(args.output, config=cfg.raw) if args.output else None
    session = Session([], cfg, follow=False, recorder=recorder)
    printer = textview.EventPrinter(sys.stdout, Parser(cfg.rules, cfg.mesa_version), color=console.is_terminal)
    started = time.monotonic()
    ready = lab.start(session.hub, vkr_debug=_names(args.vkr_debug))
    console.print(Text(f"lab '{lab.name}' server ready in {ready:.2f} s ({lab.manifest['mode']} install)",
                       style="bold"))
    runner = Runner(session.hub, deadline=args.deadline, base_env=lab.guest_env(),
                    driver_files=lab.manifest["virtio_icd"], health=lab.health)

    def pump() -> None:
        batch = session.pump(0.05)
        while batch:
            if not args.quiet:
                printer.batch(batch)
            batch = session.pump(0.05)

    def after_run(record) -> None:
        pump()
        console.print(textview.triage_row(record))

    from venustui.elf import inspect as inspect_elf
    from venustui.loader import read_manifest

    driver = read_manifest(Path(lab.manifest["virtio_icd"]), "the lab").library
    known = [name for name, _ in inspect_elf(driver).flags.get("VN_PERF", [])] or None
    if known is None:
        console.print(Text("note: the Venus driver's flag table could not be read; using the catalogue's names",
                           style="yellow"))
    try:
        console.print(textview.triage_header("probe", "fence"))
        result = run_triage(runner, PROBE, phase="fence", known=known, on_run=after_run)
        flag_sets = [runs.flags for runs in result.runs[:1]]
        if result.smallest:
            flag_sets.append(next(r.flags for r in result.runs if r.outcome.passed))
        console.print(Text("map phase (the feedback mechanism by hand):", style="bold"))
        for flags in flag_sets:
            after_run(runner.run(PROBE, flags, "map"))
    finally:
        lab.stop()
        time.sleep(0.1)
        pump()
        session.stop()
    for line in textview.triage_summary(result):
        console.print(line)
    _print_summary(console, session.model)
    console.print(Text(f"story told in {time.monotonic() - started:.1f} s"))
    return 0


def inspect_cmd(args, cfg: config_mod.Config, console: Console) -> int:
    import platform

    from venustui import elf, loader
    from venustui.lab import Lab

    if args.backtrace:
        bases = {}
        for item in args.base:
            name, _, value = item.partition("=")
            try:
                bases[name] = int(value, 16)
            except ValueError:
                raise UserError(f"--base {item}: write it as LIB=0x7f…") from None
        try:
            text = Path(args.backtrace).read_text(errors="replace")
        except OSError as exc:
            raise UserError(f"{args.backtrace}: cannot read: {exc.strerror}") from None
        frames = elf.symbolize(text, roots=tuple(args.debug_dir) + elf.DEBUG_ROOTS, bases=bases)
        if args.json:
            print(json.dumps([f.__dict__ for f in frames], indent=2))
        for frame in frames if not args.json else []:
            console.print(Text(textview.visible(frame.text(), 2000)))
        if not frames:
            console.print(Text("no backtrace lines found (gdb '#N 0x… in ?? () from LIB', 'LIB(+0x…)' or eu-stack)"))
        return 0

    lab = Lab()
    lab_manifest = lab.manifest if lab.installed() else {}
    targets: list[tuple[str, str]] = []  # (what, library path)
    manifests = []
    if args.icd:
        extra = [(Path(lab_manifest[k]), "the lab") for k in ("virtio_icd", "host_icd") if lab_manifest.get(k)]
        manifests = loader.pick(loader.discover(extra=extra), args.icd)
        targets = [(f"{m.path} ({m.origin})", m.library) for m in manifests]
    elif args.render_server:
        path, why = loader.render_server(lab_manifest=lab_manifest)
        targets = [(f"render server ({why})", path)]
    elif args.path:
        targets = [(args.path, args.path)]
    else:
        raise UserError("give a PATH, --icd NAME, --render-server or --backtrace LOG")
    system_glibc = platform.libc_ver()[1]
    results = []
    for (label, path), manifest in zip(targets, manifests or [None] * len(targets)):
        entry = {"what": label, "library": path}
        if manifest is not None and manifest.problem:
            entry["problem"] = manifest.problem
            results.append(entry)
            continue
        start = time.perf_counter()
        facts = elf.inspect(path)
        entry.update(facts.as_dict())
        entry["seconds"] = round(time.perf_counter() - start, 4)
        entry["notes"] = _inspect_notes(facts, system_glibc) + (manifest.notes if manifest else [])
        results.append(entry)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for entry in results:
        for line in textview.inspect_lines(entry):
            console.print(line)
    return 1 if any("problem" in e for e in results) else 0


def _inspect_notes(facts, system_glibc: str) -> list[str]:
    from venustui.lab import COMPAT_LIB
    from venustui.parse.venus_flags import CATALOGUE

    notes = []
    have = tuple(int(x) for x in system_glibc.split(".")[:2] if x.isdigit())
    for need in facts.glibc_needs:
        version = need.split()[0]
        numbers = tuple(int(x) for x in version.removeprefix("GLIBC_").split(".")[:2] if x.isdigit())
        if have and numbers > have:
            if need.endswith("(weak)"):
                notes.append(f"needs {version}, newer than this system's glibc {system_glibc}, marked weak"
                             + (f" with {COMPAT_LIB} supplying its C23 functions (the lab's compatibility measures)"
                                if COMPAT_LIB in facts.needed else ""))
            else:
                notes.append(f"needs {version} but this system has glibc {system_glibc}: the dynamic loader "
                             "will refuse to load it")
    if "VN_PERF" in facts.flags:
        known = {name for name, _ in facts.flags["VN_PERF"]}
        catalogue = {f.name for f in CATALOGUE if f.variable == "VN_PERF"}
        gone = sorted(catalogue - known)
        if "no_fence_feedback" not in known:
            notes.append("no_fence_feedback is not a name this driver knows (Mesa 26.2 removed fence feedback)")
        if gone:
            notes.append(f"VN_PERF names other Mesa versions know but this one ignores: {', '.join(gone)}")
    if not facts.debug_info and not facts.symtab:
        notes.append(f"stripped: debug file by build-id /usr/lib/debug/.build-id/{facts.build_id[:2]}/"
                     f"{facts.build_id[2:]}.debug" if facts.build_id else "stripped, and no build-id")
    return notes


COMMANDS = {
    "tui": tui_cmd, "watch": watch, "decode": decode, "probe": probe, "triage": triage, "record": record, "replay": replay_cmd,
    "report": report_cmd, "export": export_cmd, "lab": lab_cmd, "inspect": inspect_cmd,
}
