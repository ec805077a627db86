"""``venustui inspect``: driver facts (which binary is really loaded and what it understands) and
backtrace symbolization. The facts and notes come from venustui.driver_notes and venustui.elf."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.text import Text

from venustui import textview
from venustui.config import Config
from venustui.errors import UserError


def add_parser(sub) -> None:
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
    ins.set_defaults(run=run)


def run(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    if args.backtrace:
        return _backtrace(args, console)
    from venustui import driver_notes

    if args.icd:
        drivers = driver_notes.icd_drivers(args.icd)
    elif args.render_server:
        drivers = [driver_notes.render_server_driver()]
    elif args.path:
        drivers = [driver_notes.Driver(args.path, args.path)]
    else:
        raise UserError("give a PATH, --icd NAME, --render-server or --backtrace LOG")
    results = driver_notes.describe(drivers)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for entry in results:
        for line in textview.inspect_lines(entry):
            console.print(line)
    return 1 if any("problem" in e for e in results) else 0


def _load_bases(items: list[str]) -> dict[str, int]:
    """--base LIB=0xADDR options as {LIB: address}."""
    bases = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            bases[name] = int(value, 16)
        except ValueError:
            raise UserError(f"--base {item}: write it as LIB=0x7f…") from None
    return bases


def _backtrace(args: argparse.Namespace, console: Console) -> int:
    from venustui import elf

    bases = _load_bases(args.base)
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
