"""``venustui decode``: what a 64-bit handle value could be, ranked, with a bit diagram, and with
--log where it appears in log files; with --as, what a virtio-gpu type, hv_return_t, errno or VkResult
means (one line each, from the tables in venustui/decoders.py)."""

from __future__ import annotations

import argparse
import dataclasses
import json

from rich.console import Console

from venustui import decoders, textview
from venustui import handles as H
from venustui.config import Config
from venustui.errors import UserError
from venustui.provenance import find_provenance, provenance_rows
from venustui.session import fold_files
from venustui.sources import parse_spec


def add_parser(sub) -> None:
    dec = sub.add_parser("decode", help="what a 64-bit handle value could be, ranked, with a bit diagram; "
                         "with --as, what a virtio-gpu type, hv_return_t, errno or VkResult means")
    dec.add_argument("values", nargs="+", metavar="VALUE",
                     help="hex (0x50000000005) or decimal; a minus sign for a signed value, with -- before "
                          "the values when one is negative hex (decode --as errno -- -0x16)")
    dec.add_argument("--as", dest="kind", choices=("handle", *decoders.KINDS), default="handle", metavar="KIND",
                     help="what the values are: handle (the default), virtio-gpu (control type or response), "
                          "hv (Hypervisor.framework hv_return_t), errno or vkresult")
    dec.add_argument("--platform", choices=decoders.PLATFORMS, metavar="PLATFORM",
                     help="errno numbering: linux or macos (default: Linux, noting where macOS differs)")
    dec.add_argument("--json", action="store_true", help="machine-readable output")
    dec.add_argument("--log", action="append", default=[], metavar="FILE",
                     help="also say where the handle value appears in this log (repeatable)")
    dec.set_defaults(run=run)


def run(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    if args.kind != "handle":
        return run_table(args, console)
    if args.platform:
        raise UserError("--platform is for --as errno (errno numbering differs between Linux and macOS)")
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


def run_table(args: argparse.Namespace, console: Console) -> int:
    """--as virtio-gpu|hv|errno|vkresult: one line per value, or their fields as JSON."""
    if args.log:
        raise UserError(f"--log is for handle values, not --as {args.kind} (drop --log or --as)")
    if args.platform and args.kind != "errno":
        raise UserError(f"--platform is for --as errno, not --as {args.kind}")
    decoded = [decoders.decode(text, args.kind, args.platform) for text in args.values]
    if args.json:
        results = [dataclasses.asdict(d) for d in decoded]
        print(json.dumps(results if len(results) > 1 else results[0], indent=2, ensure_ascii=False))
    else:
        for d in decoded:
            console.print(decoders.describe(d), markup=False, highlight=False)
    return 0
