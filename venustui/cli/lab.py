"""``venustui lab …``: install, check, start and stop the local Venus-over-vtest stack, and tell
its story (``lab triage``: the fence phase hangs, triage finds the flag, the map phase shows why)."""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console
from rich.text import Text

from venustui import textview
from venustui.cli.common import flag_names, print_summary
from venustui.config import Config


def add_parser(sub) -> None:
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
    lab.set_defaults(run=run)


def run(args: argparse.Namespace, cfg: Config, console: Console) -> int:
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
        seconds = lab.start(vkr_debug=flag_names(args.vkr_debug), host_icd=args.host_icd,
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
    return _story(lab, args, cfg, console)


def _story(lab, args: argparse.Namespace, cfg: Config, console: Console) -> int:
    """Print the lab story as venustui.lab_story tells it: log events, runs, then the findings."""
    from venustui.lab_story import StoryCallbacks, tell_story
    from venustui.parse import Parser

    printer = textview.EventPrinter(sys.stdout, Parser(cfg.rules, cfg.mesa_version), color=console.is_terminal)
    started = time.monotonic()
    on = StoryCallbacks(
        ready=lambda seconds: console.print(Text(f"lab '{lab.name}' server ready in {seconds:.2f} s "
                                                 f"({lab.manifest['mode']} install)", style="bold")),
        note=lambda text: console.print(Text(f"note: {text}", style="yellow")),
        triage_started=lambda target, phase: console.print(textview.triage_header(target, phase)),
        map_started=lambda: console.print(Text("map phase (the feedback mechanism by hand):", style="bold")),
        run=lambda record: console.print(textview.triage_row(record)),
        batch=(lambda batch: None) if args.quiet else printer.batch,
    )
    story = tell_story(lab, cfg, on, deadline=args.deadline, vkr_debug=flag_names(args.vkr_debug),
                       record_to=args.output)
    for line in textview.triage_summary(story.triage):
        console.print(line)
    print_summary(console, story.model)
    console.print(Text(f"story told in {time.monotonic() - started:.1f} s"))
    return 0

