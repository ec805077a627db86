"""``venustui probe`` and ``venustui triage``: run the Vulkan probe's phases, each in its own
process, and find the smallest VN_PERF set that makes a failing phase pass."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from rich.console import Console

from venustui import textview
from venustui.cli.common import flag_names
from venustui.config import Config
from venustui.errors import UserError

PROBE_PHASES = ("fence", "map")


def add_probe_parser(sub) -> None:
    probe = sub.add_parser("probe", help="run the Vulkan probe: the seed's fence steps and the feedback-slot "
                           "experiment, each phase in its own process")
    probe.add_argument("--json", action="store_true", help="one JSON object per phase run")
    probe.add_argument("--phase", default="fence,map", help="fence, map or fence,map (default)")
    probe.add_argument("--watch", type=float, metavar="SECONDS",
                       help="keep resubmitting every SECONDS and stream fence (and slot) samples until Ctrl-C")
    probe.add_argument("--deadline", type=float, default=5.0,
                       help="seconds without progress before a phase counts as hung (default 5)")
    probe.set_defaults(run=run_probe)


def add_triage_parser(sub) -> None:
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
    tri.set_defaults(run=run_triage)


class _Stop(Exception):
    """SIGTERM during a streaming probe: end it like Ctrl-C does."""


def _raise_stop(signum, frame):
    raise _Stop()


def _phases(text: str) -> list[str]:
    phases = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in phases if p not in PROBE_PHASES]
    if bad or not phases:
        raise UserError(f"--phase {text}: unknown phase (use fence, map or fence,map)")
    return phases


def run_probe(args: argparse.Namespace, cfg: Config, console: Console) -> int:
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


def run_triage(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    from venustui.parse.venus_flags import parse_version
    from venustui.probe.runner import Runner
    from venustui.targets import resolve_target
    from venustui.triage import triage

    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    target = resolve_target(cfg, args.target, argv)
    phase = args.phase or "fence"
    if phase not in target.phases:
        raise UserError(f"--phase {phase}: target {target.name} has phases {', '.join(target.phases)}")
    names = list(flag_names(args.flags)) if args.flags else None
    version = parse_version(cfg.mesa_version) if cfg.mesa_version else None
    runner = Runner(deadline=args.deadline)

    def progress(record) -> None:
        if not args.json:
            console.print(textview.triage_row(record))

    if not args.json:
        console.print(textview.triage_header(target.name, phase))
    try:
        result = triage(runner, target, phase=phase, names=names, version=version, on_run=progress)
    except (KeyboardInterrupt, _Stop):
        runner.stop()
        raise UserError("triage interrupted; the target's process group was ended") from None
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        for line in textview.triage_summary(result):
            console.print(line)
    return 0 if result.smallest is not None or result.runs[0].outcome.passed else 1
