"""``venustui diagnose [FILE…|-]``: the one-shot for a pasted log or a folder of logs: read to the end, print the
findings ranked (the top one with its cause, fix and references), no TUI. Exit 0 when nothing above warning
was found, 1 when an error or critical finding was, 2 for a usage error."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from rich.console import Console

from venustui import textview
from venustui.config import Config
from venustui.errors import UserError

# Names a pasted log gives away: home folders, user@host prompts, syslog/journald host names.
_HOME = re.compile(r"/(?:home|Users)/([A-Za-z0-9_.\-]+)")
_PROMPT = re.compile(r"\b([a-z_][\w.\-]*)@([\w.\-]+)[:~]")
_SYSLOG_HOST = re.compile(r"^(?:\w{3} [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)?|\d{4}-\d{2}-\d{2}T[\d:.+\-Z]+) ([\w.\-]+) ",
                          re.M)
_KEEP = frozenset({"root", "localhost", "host", "guest", "user", "kernel"})


def add_parser(sub) -> None:
    p = sub.add_parser("diagnose", help="findings for pasted or collected logs, once: ranked, with causes and fixes")
    p.add_argument("files", nargs="*", metavar="FILE", default=["-"],
                   help="log files or folders of logs; - (the default) reads stdin: pbpaste | venustui diagnose -")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="machine-readable findings")
    form.add_argument("--markdown", action="store_true", help="Markdown for an issue comment (log text literal)")
    p.add_argument("--redact", action="store_true",
                   help="replace home folders, user and host names consistently (user1, host1, ...)")
    p.add_argument("--virglrenderer", metavar="VERSION",
                   help="the host's virglrenderer version, when the logs do not say it (e.g. 1.1.0)")
    p.set_defaults(run=run)


def _paths(items: list[str]) -> list[str]:
    """Files as given; a folder's files, sorted (hidden ones and journals left out)."""
    out = []
    for item in items:
        if item != "-" and os.path.isdir(item):
            found = sorted(os.path.join(top, name) for top, _dirs, names in os.walk(item) for name in names
                           if not name.startswith(".") and not name.endswith(".vtj"))
            if not found:
                raise UserError(f"{item}: a folder without log files (give the log files, or - for stdin)")
            out += found
        else:
            out.append(item)
    return out


class Redactor:
    """Replaces the names a log gives away with stable stand-ins: each user or host name the same everywhere."""

    def __init__(self, texts: list[str]) -> None:
        self.names: dict[str, str] = {}
        for text in texts:
            for user in _HOME.findall(text):
                self._add(user, "user")
            for user, host in _PROMPT.findall(text):
                self._add(user, "user")
                self._add(host, "host")
            for host in _SYSLOG_HOST.findall(text):
                self._add(host, "host")
        names = sorted(self.names, key=len, reverse=True)
        self._pattern = re.compile(r"(?<![\w.\-])(" + "|".join(map(re.escape, names)) + r")(?![\w\-])") if names else None

    def _add(self, name: str, kind: str) -> None:
        if name not in self.names and name not in _KEEP and len(name) > 1:
            count = sum(1 for value in self.names.values() if value.startswith(kind))
            self.names[name] = f"{kind}{count + 1}"

    def __call__(self, text: str) -> str:
        return self._pattern.sub(lambda m: self.names[m.group(1)], text) if self._pattern else text


def _devices_seen(model) -> str:
    """What the logs say worked, so that "no finding" is not read as "nothing understood": the Vulkan devices named."""
    names = list(dict.fromkeys(device.name + (" (Venus)" if device.venus and device.host_gpu is None else "")
                               for device in model.vulkan_devices))
    if not names:
        return ""
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return f"; the Vulkan device{'s' if len(names) > 1 else ''} they name: {shown}"


def run(args: argparse.Namespace, cfg: Config, console: Console) -> int:
    from venustui.diagnose import diagnose
    from venustui.report import findings_blocks, to_markdown
    from venustui.session import fold_files
    from venustui.sources import parse_spec

    paths = _paths(args.files)
    for path in paths:
        parse_spec(path)  # one-line errors for a bad SOURCE before anything is read
    versions = {"virglrenderer": args.virglrenderer} if args.virglrenderer else None
    model = fold_files(paths, cfg)
    findings = diagnose(model, versions)
    if args.json:
        out = json.dumps({"findings": [f.as_dict() for f in findings],
                          "lines": sum(model.lines.values())}, indent=2) + "\n"
    elif args.markdown:
        out = to_markdown(findings_blocks(findings))
    else:
        lines = textview.findings(findings) or [textview.Text(
            "no finding: nothing in these logs matched a known failure "
            f"({sum(model.lines.values()):,} lines read){_devices_seen(model)}")]
        out = "".join(line.plain + "\n" for line in lines)
    if args.redact:
        out = Redactor([e.text for f in findings for e in f.evidence] + [out])(out)
    if args.markdown or args.json or not sys.stdout.isatty():
        sys.stdout.write(out)
    else:
        for line in out.splitlines():
            console.print(textview.Text(line), soft_wrap=True)
    return 1 if any(f.severity in ("critical", "error") for f in findings) else 0
