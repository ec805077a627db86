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
from venustui.lab import VMMS


def _pair_options(parser, what: str, vmm: bool = False) -> None:
    parser.add_argument("--mesa", metavar="SERIES", help=f"Mesa series of the pair to {what} (25.0, 26.1, 26.2…)")
    parser.add_argument("--virglrenderer", metavar="SERIES", help=f"virglrenderer series of the pair to {what} "
                        "(1.1, 1.3…)")
    if vmm:
        parser.add_argument("--vmm", choices=VMMS, default="qemu", help="qemu: a QEMU guest with virtio-gpu, the "
                            "user's topology (default); vtest: Venus over a UNIX socket, no guest kernel")


def add_parser(sub) -> None:
    lab = sub.add_parser("lab", help="the local Venus-over-vtest stack on Mesa × virglrenderer pairs (install, "
                         "remove, doctor, up, down, status, triage)")
    lab.add_argument("--name", default="default", help="lab name: several labs can run side by side")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    inst = lab_sub.add_parser("install", help="install a pair into its private prefix (default: trixie's 25.0×1.1)")
    _pair_options(inst, "install")
    inst.add_argument("--all", action="store_true", help="every pair of the series Debian serves")
    inst.add_argument("--force", action="store_true", help="install again even if installed")
    rm = lab_sub.add_parser("remove", help="delete a pair's prefix (its .debs stay cached)")
    rm.add_argument("pair", nargs="?", metavar="PAIR", help="MESAxVIRGL, e.g. 26.2x1.3")
    rm.add_argument("--all", action="store_true", help="every installed pair")
    doctor = lab_sub.add_parser("doctor", help="check each part and say what to fix")
    _pair_options(doctor, "check")
    up = lab_sub.add_parser("up", help="start the lab's server in the background")
    _pair_options(up, "start", vmm=True)
    up.add_argument("--vkr-debug", default="", help="VKR_DEBUG names for the render server, e.g. validate or all")
    up.add_argument("--host-icd", help="an ICD manifest for the host driver instead of lavapipe")
    up.add_argument("--render-server", help="your own virgl_render_server build")
    up.add_argument("--scenario", help="start the lab as a fault scenario (venustui lab scenarios lists them)")
    lab_sub.add_parser("scenarios", help="the fault scenarios, one line each")
    lab_sub.add_parser("down", help="stop the lab's server and clean what a crashed session left")
    lab_sub.add_parser("status", help="what runs, where the socket and logs are")
    story = lab_sub.add_parser("triage", help="the story: probe phases with and without feedback flags, "
                               "triage, findings")
    _pair_options(story, "run", vmm=True)
    story.add_argument("--deadline", type=float, default=5.0, help="seconds without progress = hung (default 5)")
    story.add_argument("--vkr-debug", default="", help="VKR_DEBUG names for the render server (validate, all)")
    story.add_argument("-q", "--quiet", action="store_true", help="only runs, summary and findings")
    story.add_argument("-o", "--output", metavar="FILE", help="also record the session to this journal")
    lab.set_defaults(run=run)


def chosen_pair(args: argparse.Namespace):
    """The pair --mesa/--virglrenderer name (one of them alone takes the other from trixie's pair), or None."""
    from venustui.lab_install import DEFAULT_PAIR, Pair

    mesa, virgl = getattr(args, "mesa", None), getattr(args, "virglrenderer", None)
    if mesa is None and virgl is None:
        return None
    return Pair.parse(f"{mesa or DEFAULT_PAIR[0]}x{virgl or DEFAULT_PAIR[1]}")


def run(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    from venustui.lab import Lab
    from venustui.lab_install import Pair

    pair = chosen_pair(args)
    lab = Lab(args.name, pair=pair, vmm=getattr(args, "vmm", None) or "vtest")
    action = args.lab_command
    if action == "install":
        lab.install([pair] if pair else None, all_served=args.all, force=args.force,
                    progress=lambda line: console.print(Text("lab: " + line)))
        return 0
    if action == "remove":
        if not args.all and not args.pair:
            console.print(Text("lab remove: name a pair (venustui lab status lists them) or --all", style="red"))
            return 2
        for line in lab.remove(lab.pairs() if args.all else [Pair.parse(args.pair)]):
            console.print(Text(line))
        return 0
    if action == "doctor":
        from venustui.lab_doctor import doctor

        checks = doctor(lab)
        for check in checks:
            mark = "ok " if check.ok else "FIX"
            line = Text(f"{mark} {check.part:<20} {check.detail}", style="" if check.ok else "red")
            if not check.ok and check.fix:
                line.append(f"  → {check.fix}", style="yellow")
            console.print(line)
        return 0 if all(c.ok for c in checks) else 1
    if action == "scenarios":
        from venustui.lab_scenarios import SCENARIOS

        for known in SCENARIOS:
            console.print(Text(f"{known.name:<22} {known.summary}"))
        console.print(Text("venustui --scenario NAME plays one in the TUI (x picks one there); "
                           "venustui lab up --scenario NAME starts its configuration"))
        return 0
    if action == "up" and args.scenario:
        from venustui.lab_scenarios import scenario

        chosen = scenario(args.scenario)
        lab = chosen.lab(lab)
        seconds = lab.start(vkr_debug=chosen.vkr_debug)
        console.print(Text(f"lab '{lab.name}' up in {seconds:.2f} s as scenario {chosen.name} on {lab.describe()}"
                           + ("; its fault is played by venustui --scenario" if chosen.fault else "")))
        console.print(Text(_guest_hint(lab)))
        return 0
    if action == "up":
        seconds = lab.start(vkr_debug=flag_names(args.vkr_debug), host_icd=args.host_icd,
                            render_server=args.render_server)
        where = (f"agent {lab.vm.agent_socket}, console {lab.runtime}/console.log" if lab.vmm == "qemu"
                 else f"socket {lab.socket_path}")
        console.print(Text(f"lab '{lab.name}' up in {seconds:.2f} s on {lab.describe()}: {where}, "
                           f"logs {lab.runtime}/host.stdout.log and host.stderr.log"))
        console.print(Text(_guest_hint(lab)))
        return 0
    if action == "down":
        cleaned = lab.clean_stale()
        how = lab.stop()
        console.print(Text(f"lab '{lab.name}': {how}" + (f"; removed {', '.join(cleaned)}" if cleaned else "")))
        return 0
    if action == "status":
        pid = lab.running_pid()
        vmm = lab.running_vmm() or "vtest"
        console.print(Text(f"lab '{lab.name}': " + (f"running on {lab.pair.id} ({vmm}), pid {pid}" if pid
                                                     else "not running") + f"; runtime {lab.runtime}"))
        pairs = lab.pairs()
        if not pairs:
            console.print(Text(f"no pair installed in {lab.root} (venustui lab install)"))
        for installed in pairs:
            other = Lab(args.name, root=lab.root, pair=installed)
            mark = "*" if installed == lab.pair else " "
            console.print(Text(f" {mark} {other.describe(topology=False)}" + ("" if other.installed() else " (incomplete: "
                                                                     "lab install --force)")))
        if lab.installed():
            console.print(Text(_guest_hint(lab)))
        return 0
    return _story(lab, args, cfg, console)


def _guest_hint(lab) -> str:
    """How a user runs their own Vulkan program against this lab (through the pair's loader, or the guest's agent)."""
    import shlex

    if lab.vmm == "qemu":
        return (f"guest: {sys.executable} -m venustui.guest_client --socket {lab.vm.agent_socket} "
                "--env VN_DEBUG=init,result -- /bin/venus-probe --phase fence")
    return (f"guest: VTEST_SOCKET_NAME={lab.socket_path} VK_DRIVER_FILES={lab.manifest['virtio_icd']} "
            f"VN_DEBUG=vtest MESA_LOG_LEVEL=debug {shlex.join(lab.prefix.launcher)} PROGRAM")


def _story(lab, args: argparse.Namespace, cfg: Config, console: Console) -> int:
    """Print the lab story as venustui.lab_story tells it: log events, runs, then the findings."""
    from venustui.lab_story import StoryCallbacks, tell_story
    from venustui.parse import Parser

    printer = textview.EventPrinter(sys.stdout, Parser(cfg.rules, cfg.mesa_version), color=console.is_terminal)
    started = time.monotonic()
    on = StoryCallbacks(
        ready=lambda seconds: console.print(Text(f"lab '{lab.name}' server ready in {seconds:.2f} s "
                                                 f"on {lab.describe()}", style="bold")),
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

