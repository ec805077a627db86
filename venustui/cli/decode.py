"""``venustui decode``: what a 64-bit handle value could be, ranked, with a bit diagram, and with
--log where it appears in log files."""

from __future__ import annotations

import argparse
import json

from rich.console import Console

from venustui import handles as H
from venustui import textview
from venustui.config import Config
from venustui.provenance import find_provenance, provenance_rows
from venustui.session import fold_files
from venustui.sources import parse_spec


def add_parser(sub) -> None:
    dec = sub.add_parser("decode", help="what a 64-bit handle value could be, ranked, with a bit diagram")
    dec.add_argument("values", nargs="+", metavar="HANDLE", help="hex (0x50000000005) or decimal")
    dec.add_argument("--json", action="store_true", help="machine-readable output")
    dec.add_argument("--log", action="append", default=[], metavar="FILE",
                     help="also say where the value appears in this log (repeatable)")
    dec.set_defaults(run=run)


def run(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    values = [H.parse_value(v) for v in args.values]
    model = None
    if args.log:
        for path in args.log:
            parse_spec(path)  # same SOURCE rules; check_spec runs in the session
        model = fold_files(args.log, cfg)
    results = []
    for value in values:
        provenance = find_provenance(value, args.log, model) if args.log else None
        if args.json:
            results.append({
                "value": f"0x{value:x}",
                "layouts": [H.as_dict(value, layout) for layout in H.decode(value)],
                **({"seen": provenance} if provenance is not None else {}),
            })
        else:
            rows = provenance_rows(provenance) if provenance is not None else None
            for line in textview.decoding(value, rows):
                console.print(line)
            console.print()
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2))
    return 0
