"""A line's envelope: what other programs put around a family's payload, recognised and peeled.

Real logs are pasted, collected and forwarded: indented and quoted in mail and issues, behind
Python-logging or ISO-8601 stamps, in syslog, journald and macOS unified-log forms, behind the
kernel's ``[ secs]`` and ``<N>`` marks, Rust env_logger's ``[LEVEL target]``, QEMU's trace
``PID@SECS:`` or ``-msg timestamp=on``, with serial-console CR noise. ``peel`` strips those
layers, one after another, from the start of a line, and says what they held (time, program, pid,
level) as fields; the payload rules then run on what is left. A family's marker may also sit
after other text (``…device-local=true:MESA-VIRTIO: debug: …``): ``glued_at`` finds it.

Every pattern is anchored and linear: a hostile line costs one pass.
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from venustui.parse.families import GLUED_MARKERS, PROMPT, SHELL_PROGRAM, family_of_program

# Month abbreviations as syslog and journald print them (strftime's %b): English, and the Latin-script locales
# users paste from (German, French, Spanish, Italian, Portuguese, Dutch), by month.
MONTH_ABBREVIATIONS = (("jan", "ene", "gen", "janv"), ("feb", "fév", "févr", "fev"), ("mar", "mär", "mrt", "mars"),
                       ("apr", "avr", "abr"), ("may", "mai", "mag", "mei"), ("jun", "juin", "giu"),
                       ("jul", "juil", "lug"), ("aug", "aoû", "août", "ago"), ("sep", "sept", "set"),
                       ("oct", "okt", "ott", "out"), ("nov",), ("dec", "dez", "déc", "dic"))


def _by_first_letter(words) -> str:
    """An alternation of words grouped by their first letter, either case (one test of the letter, not one
    of every word): the syslog layers try it at the start of most lines."""
    rests: dict[str, set[str]] = {}
    for word in words:
        rests.setdefault(word[0], set()).add(re.escape(word[1:]))
    return "(?:" + "|".join(f"[{first}{first.upper()}](?:{'|'.join(sorted(rest, key=lambda r: (-len(r), r)))})"
                            for first, rest in sorted(rests.items())) + ")"


_MONTH = _by_first_letter(name for names in MONTH_ABBREVIATIONS for name in names) + r"\.?"
_ISO = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?"
# A program's name; never a family's own marker (the render server's lines start "vkr: ").
_NAME = r"(?!vkr:)[A-Za-z_.\-/][\w.\-/]*?"
# A program with its pid, or the kernel: journald names every other program with its pid, and a stamp before
# "Word word: …" is not a host and a program.
_PROG = r"(?P<prog>kernel|" + _NAME + r"(?=\[))(?:\[(?P<pid>\d+)(?::[0-9a-fx]+)?\])?"

# The delta from the previous line that dmesg -d and journalctl -o short-delta print inside the stamp's brackets.
_DELTA = r"(?:\s*<\s*\d+\.\d+>)?"

# A syslog line's host, or a level word where a template (ChromeOS's, Rust tracing's "<stamp> ERROR target: ") puts
# the severity instead: the line's level, never a host named ERROR.
_HOST = (r"(?:(?P<level>EMERG|ALERT|CRIT|ERROR|ERR|WARNING|WARN|NOTICE|INFO|DEBUG|TRACE)(?=\s)"
         r"|(?P<host>[\w.\-]+))")

_SYSLOG_TIME = (r"(?P<time>(?:" + _MONTH + r" [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)?|" + _ISO + r"|\d{9,10}\.\d+|"
                r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?: [A-Z]{2,5}|[+-]\d{4})?))\s+")

# Each layer: a pattern anchored at the line's start, and the name of the form (for the record).
LAYERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern)) for name, pattern in (
    # a pasted terminal's prompt (`user@host:~$ `, `localhost:~# `, `$ `): what follows is a command, or a
    # program's output pasted on the prompt's line
    ("prompt", PROMPT),
    # quoting and indentation (mail, issues, pasted terminals), and serial-console CRs
    ("quote", r"(?:[ \t\r]*>)+[ \t]?"),
    ("indent", r"[ \t\r]+"),
    # QEMU's trace log backend: 12345@1700000000.123456:
    ("qemu-trace", r"(?P<pid>\d+)@(?P<time>\d+\.\d+):"),
    # the macOS unified log, `log show`/`log stream` default style:
    # 2026-01-27 19:49:29.123456-0800 0x1a2b  Debug  0x0  38956  0  virgl_render_server: …
    ("macos-log", r"(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+[+-]\d{4})\s+0x[0-9a-f]+\s+"
                  r"(?P<level>Default|Info|Debug|Error|Fault|Activity)\s+0x[0-9a-f]+\s+(?P<pid>\d+)\s+\d+\s+"
                  r"(?P<prog>[^\s:]+):\s"),
    # the macOS log, compact style: 2026-01-27 19:49:29.123 Df virgl_render_server[38956:1a2b] …
    ("macos-compact", r"(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+)\s+(?P<level>[A-Z][a-z])\s+"
                      r"(?P<prog>[^\s\[]+)\[(?P<pid>\d+):[0-9a-f]+\]\s"),
    # NSLog() on stderr (a macOS app's own log: MoltenVK inside krunkit or UTM): 2026-01-27 19:49:29.123 krunkit[1234:5678]
    ("nslog", r"(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) (?P<prog>[^\s\[\]]+)\[(?P<pid>\d+):[0-9a-fx]+\] "),
    # syslog and journald's short, short-precise and short-iso: Nov 26 10:33:02[.123456] host prog[pid]:
    # journalctl's short-unix (1700000000.123456 host prog[pid]:) and short-full (Thu 2025-11-26 10:33:02 UTC …) too.
    # A program without its [pid] only as "kernel" or one a family knows (syslog-program below): "<stamp> Abort
    # message: …" is a stamped line, not host "Abort" and program "message".
    # ChromeOS's syslog (Crostini's crosvm, vm_concierge) puts the severity where others put the host (_HOST).
    ("syslog", _SYSLOG_TIME + _HOST + r"\s+" + _PROG + r":\s"),
    ("syslog-program", _SYSLOG_TIME + _HOST + r"\s+(?P<prog>" + _NAME + r"):\s"),
    # the macOS log as people paste it: Jan 27 19:49:29  virgl_render_server[38956] <Debug>:
    ("macos-syslog", r"(?P<time>" + _MONTH + r" [ \d]\d \d{2}:\d{2}:\d{2})\s+(?:(?P<host>[\w.\-]+)\s+)?"
                     r"(?P<prog>[^\s\[]+)\[(?P<pid>\d+)\]\s+<(?P<level>\w+)>:\s"),
    # journald's short-monotonic and short-delta: [  475.257111] host prog[pid]: , [  475.257111 <    0.000123>] …
    ("journal-monotonic", r"\[\s*(?P<time>\d+\.\d+)" + _DELTA + r"\]\s+" + _HOST + r"\s+" + _PROG + r":\s"),
    # a program's stderr through syslog's LOG_PERROR (the render server's render_log): virgl_render_server[2315]:
    # (only a program a family knows: "word[12]: " alone is too common to be a program's)
    ("program-pid", r"(?P<prog>" + _NAME + r")\[(?P<pid>\d+)\]:\s"),
    # Rust env_logger: [2025-06-10T12:00:00Z ERROR hvf] , [ERROR hvf] , [WARN  hvf] , [… devices::virtio::mmio[console]]
    ("env-logger", r"\[(?:(?P<time>" + _ISO + r")\s+)?(?P<level>ERROR|WARN|INFO|DEBUG|TRACE)\s+"
                   r"(?P<prog>[\w:.\-]+(?:\[[\w.\-]*\])?)\]\s?"),
    # crosvm's source tag without a level (behind ChromeOS's syslog, which has it): [devices/src/virtio/gpu/mod.rs:1557]
    ("crosvm-source", r"\[(?P<prog>[\w/.\-]+?\.rs):\d+\]\s?"),
    # crosvm's own logger: [ERROR:vm_control/src/lib.rs:914] , [WARNING:devices/src/virtio/gpu/virtio_gpu.rs:752]
    ("crosvm-log", r"\[(?P<level>ERROR|WARNING|WARN|INFO|DEBUG|TRACE):(?P<prog>[\w/.\-]+?\.rs):\d+\]\s?"),
    # env_logger's other style: ERROR krun_vmm::linux::vstate]  (or the level and target behind a stamp)
    ("env-logger", r"(?P<level>ERROR|WARN|INFO|DEBUG|TRACE)\s+(?P<prog>[a-z_][\w]*(?:::\w+)*)\]\s?"),
    # Rust tracing's fmt, behind its stamp: " WARN krun_vmm::builder: " (a Rust path, or a program a family knows)
    ("tracing", r"(?P<level>ERROR|WARN|INFO|DEBUG|TRACE)\s+(?P<prog>[A-Za-z_]\w*(?:::\w+)*):\s"),
    # Go's logrus and slog text (podman, lima): time="2025-06-10T12:00:00Z" level=error msg="…" (the message
    # ends at its closing quote: the fields after it are not the payload's)
    ("logfmt", r"(?:time=\"?(?P<time>[^\"\s]+)\"?\s+)?level=(?P<level>[A-Za-z]+)\s+msg="),
    # one field of a record printed over several lines: journalctl -o json-pretty ("MESSAGE" : "…",) and -o verbose
    # (    MESSAGE=…); the message ends at its closing quote
    ("json-field", r"\"(?:MESSAGE|message|msg|log|eventMessage)\"\s*:\s*(?=\")"),
    # CI job logs: GitLab's stamped lines (stream and type after the stamp: 01O , 00E+) and GitHub Actions'
    # workflow commands (##[error]) behind their stamps
    ("gitlab-ci", r"(?P<time>" + _ISO + r") [0-9a-f]{2}[OE]\+?\s?"),
    ("actions", r"##\[(?P<level>error|warning|notice|debug)\]"),
    # the CRI log format (containerd, CRI-O, Kubernetes' node logs): 2025-06-10T12:00:00.123456789Z stderr F …
    ("cri", r"(?P<time>" + _ISO + r") (?:stdout|stderr) [FP] "),
    ("journal-verbose", r"MESSAGE="),
    # Chromium's logging (Chrome, Electron, ANGLE): [1234:1250:1126/100000.123456:ERROR:gpu_init.cc(441)]
    ("chromium", r"\[(?:\d+:){0,2}(?P<time>\d{4}/\d{6}(?:\.\d+)?):(?P<level>[A-Z]+\d*):"
                 r"(?P<prog>[\w.\-]+)\(\d+\)\]\s?"),
    # the Vulkan loader's own log (VK_LOADER_DEBUG=…): its level and tags, padded to 18 columns:
    # "DRIVER:           Found ICD manifest file …", "WARNING | DRIVER: …" (one space: the padding is full)
    ("loader-debug", r"(?P<level>ERROR|WARNING|INFO|DEBUG|PERF|DRIVER|LAYER)(?:(?: \| (?:PERF|DRIVER|LAYER))+: +|: {2,})"),
    # GLib's g_log (QEMU's vhost-user-gpu, GTK programs): ** (vhost-user-gpu:4242): WARNING **: 12:34:56.789:
    # and (qemu-system-x86_64:4242): Gdk-WARNING **: … (the domain's warnings stay the payload's: a family reads them)
    ("glib", r"(?:\*\* )?\((?P<prog>[^\s:()]+):(?P<pid>\d+)\): (?P<level>CRITICAL|WARNING|ERROR|DEBUG|INFO|Message)"
             r"\s?\*{0,2}:\s(?:(?P<time>\d{2}:\d{2}:\d{2}\.\d+):\s)?"),
    # glog (gfxstream, Android's native services): E1126 10:00:00.123456  1234 virtio_gpu.cc:100]
    ("glog", r"(?P<level>[IWEF])(?P<time>\d{4} \d{2}:\d{2}:\d{2}\.\d+)\s+(?P<pid>\d+)\s+(?P<prog>[\w.\-]+):\d+\]\s"),
    # Android's logcat (threadtime): 12-01 10:00:00.123  1234  1250 D MESA-VIRTIO: … (the tag stays the payload's)
    ("logcat", r"(?P<time>\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3})\s+(?P<pid>\d+)\s+\d+\s+(?P<level>[VDIWEF])\s"),
    # logcat's brief and time styles: [12-01 10:00:00.123 ]D/MESA-VIRTIO( 1234): … (the tag and its pid stay the
    # payload's: a family reads "TAG( pid):" as it reads "TAG:")
    ("logcat-brief", r"(?:(?P<time>\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3})\s+)?(?P<level>[VDIWEF])/(?=[^\s(/]+\s*\(\s*\d+\):)"),
    # dmesg --decode (-x): the facility and level before the stamp: kern  :err   : [    2.123456] …
    ("dmesg-decode", r"(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])\s*:"
                     r"(?P<level>emerg|alert|crit|err|warn|notice|info|debug)\s*:\s"),
    # kernel: <3>, [  475.257111], <3>[  475.257111]
    ("kernel-priority", r"<(?P<priority>[0-7])>"),
    # (with CONFIG_PRINTK_CALLER, the task or CPU that printed: [    2.123456][    T1] , Android's and ChromeOS's kernels)
    ("dmesg", r"\[\s*(?P<time>\d+\.\d+)" + _DELTA + r"\](?:\[\s*[TC]\d+\])?\s?"),
    # dmesg -T (the boot time plus uptime, as ctime: [Wed Dec 24 23:34:41 2025]) and dmesg -H's minutes and deltas
    # ([Dec24 23:34] , [  +0.000123]: no usable time, a clock without seconds and a delta); their lines are the kernel's
    ("dmesg-ctime", r"\[(?P<time>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) " + _MONTH + r" [ \d]\d \d{2}:\d{2}:\d{2} \d{4})\]\s?"),
    ("dmesg-human", r"\[(?:(?P<time>" + _MONTH + r" ?\d{1,2} \d{2}:\d{2})|\s*\+\s*\d+\.\d+)\]\s?"),
    # Python logging and harness stamps: 2025-02-18 07:08:52,277:  , ISO-8601 / RFC 3339 stamps
    ("timestamp", r"(?P<time>" + _ISO + r")(?::\s?|\s+)"),
    # a log viewer's copy as tab-separated columns (KSystemLog and the like): 4/4/25 0:57<TAB>steam<TAB>…
    ("tab-columns", r"(?P<time>\d{1,2}/\d{1,2}/\d{2,4},? \d{1,2}:\d{2}(?::\d{2})?(?: ?[AP]M)?)\t(?P<prog>[^\t]{1,64})\t"),
    # Go's log package (2025/06/10 12:00:00), and a bracketed date and time (spdlog, Flask: [2025-06-10 12:00:00.123])
    ("go-log", r"(?P<time>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)\s+"),
    ("bracketed-time", r"\[(?P<time>" + _ISO + r")\]\s"),
    # Python logging's default format: ERROR:root:… , WARNING:ramalama:…
    ("python-logging", r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<prog>[\w.\-]+):"),
    # after a stamp only, a logger's level (and name) in the usual formats: "- ramalama - ERROR - …", "[error] …",
    # "ERROR - …", a padded "ERROR    …" ("%(asctime)s %(levelname)-8s %(message)s"), "ERROR: …" (but not before a
    # bracketed word, as in the loader's own "ERROR: [Loader Message]"); never "error …" (a message's own first word)
    ("stamped-name-level", r"-\s(?P<prog>[\w.\-]+)\s-\s(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\s-\s"),
    ("stamped-level", r"\[(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|TRACE|debug|info|warning|warn|error|"
                      r"fatal)\]\s+"),
    ("stamped-level", r"(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|TRACE)(?:\s+-\s+| {2,}|(?<=CRITICAL) )"),
    # "LEVEL: " and "LEVEL " ("%(asctime)s %(levelname)s %(message)s") may also be the payload's own first word (the
    # kernel's "WARNING: CPU: 3 PID: 34 at …"): the parser reads the payload with it where the payload without it
    # says nothing specific
    # (not before a bracketed word, "ERROR [Loader Message]", but before an env_logger record, "ERROR [ERROR hvf] …")
    ("stamped-level-word", r"(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|TRACE)(?::\s+| )"
                           r"(?!\[(?!(?:ERROR|WARN|INFO|DEBUG|TRACE)\s)[^\s\d<])"),
    # a bracketed clock from a program's own log: [06:08:47.588] ; a bare one (moreutils' ts, a tool's own stamp)
    ("clock", r"\[(?P<time>\d{2}:\d{2}:\d{2}(?:\.\d+)?)\]\s"),
    ("bare-clock", r"(?P<time>\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)\s+"),
    # logrus's text for a terminal (podman, lima, docker): INFO[0005] , WARN[2025-06-10T12:00:00Z]
    ("logrus-tty", r"(?P<level>TRAC|DEBU|INFO|WARN|ERRO|FATA|PANI)\[(?P<time>[\dT:.+\-Z]{1,40})\]\s+"),
    # docker compose's and podman-compose's service column, first on a line: llama-1  | … (after a prompt,
    # "dmesg | grep drm" is a command)
    ("compose", r"^[A-Za-z0-9][\w.\-]*\s+\|\s"),
    # a program's stderr tagged with its name: [virgl_render_server] … (only a program a family knows)
    ("program", r"\[(?P<prog>[A-Za-z_][\w.\-]*)\]\s"),
    # syslog's stamp before a program no family knows and without its pid: the time is still the line's
    ("syslog-time", r"(?P<time>" + _MONTH + r" [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)?)\s+"),
    # last, tried only where no layer above fits (and only first on a line: see _LINE_START_ONLY)
    # grep's file name, first on a line (grep -r, -H; -n's line number; a context line's "-N-"): guest.log:12:…
    # (a log's name by its extension, or a path under /var/log: a program's path is not a file's)
    ("grep-file", r"(?P<log_file>(?:~?/)?(?:[\w.\-]+/)*[\w\-][\w.\-]*\.(?:log|txt|out|err)|/var/log/(?:[\w.\-]+/)*[\w.\-]+)"
                  # (a line number is not a clock's hour: "a.log:10:00:00.000 …" is the file and a clock)
                  r"(?::(?!(?:[01]\d|2[0-3]):\d\d:\d\d(?![:\d]))[1-9]\d*:|-[1-9]\d*-|:)"),
    # a short label a wrapper puts first on the records it relays (anylinuxfs' "Linux: ", "stderr: "), taken only
    # where an env_logger record follows it
    ("label", r"[A-Za-z][\w .\-]{0,30}: (?=\[(?:" + _ISO + r"\s+)?(?:ERROR|WARN|INFO|DEBUG|TRACE)\s+[\w:.\-]+\])"),
))

_INNER_WINS = frozenset({"prog", "level"})
# A program named by the layer itself: a prompt's line is the shell's (parse/families.py: SHELL) unless an
# envelope inside it names another program.
# PID@SECS: is QEMU's trace log backend alone; the padded level and tags are the Vulkan loader's
_LAYER_PROGRAM = {"prompt": SHELL_PROGRAM, "qemu-trace": "qemu", "loader-debug": "vulkan-loader",
                  "dmesg-ctime": "kernel", "dmesg-human": "kernel"}
# Layers that name a program by a shape plain text has too: taken only for a program a family knows.
_KNOWN_PROGRAMS_ONLY = frozenset({"program", "program-pid", "syslog-program", "tracing"})
# Layers taken only right after a stamp (a line of prose may start with "Error - "), and those stamps.
_AFTER_STAMP_ONLY = frozenset({"stamped-name-level", "stamped-level", "stamped-level-word"})
_STAMPS = frozenset({"timestamp", "go-log", "bracketed-time", "clock", "bare-clock", "syslog-time"})
# The kernel's own stamps: where one sits inside other layers, the parser reads the line from it on as a bare one.
_KERNEL_STAMPS = frozenset({"dmesg", "kernel-priority"})
# Fields an envelope can give a record, as named in the patterns.
ENVELOPE_FIELDS = ("time", "prog", "pid", "host", "level", "priority", "log_file")
KERNEL_PRIORITY = ("emerg", "alert", "crit", "error", "warn", "notice", "info", "debug")

# Markers a family's payload starts with, which may sit after other output on the same line (the registry's).
_GLUED = re.compile("|".join(re.escape(m) for m in GLUED_MARKERS))


class Envelope(NamedTuple):
    at: int  # where the payload starts in the line
    forms: tuple[str, ...]  # the layers peeled, outermost first
    fields: dict  # time, prog, pid, host, level, priority (as found)
    end: int | None = None  # where the payload ends, for a message quoted inside structured fields (None: the line's end)
    kernel_at: int | None = None  # where a dmesg stamp or kernel priority starts (a kernel line inside other layers)


NONE = Envelope(0, (), {})


def _first_characters(pattern: str) -> frozenset[str] | None:
    """The characters a match of the pattern can start with (ASCII), or None for any."""
    from re import _constants as C  # the syntax tree of our own patterns, read once at import
    from re import _parser

    ascii_set = [chr(k) for k in range(128)]

    def of_items(items) -> frozenset[str] | None:
        found: set[str] = set()
        for op, arg in items:
            first, empty = of_item(op, arg)
            if first is None:
                return None
            found |= first
            if not empty:
                return frozenset(found)
        return None  # all of it may be empty: anything may follow

    def of_item(op, arg):
        if op is C.LITERAL:
            return {chr(arg)}, False
        if op is C.AT:
            return set(), True
        if op is C.IN:
            chars: set[str] = set()
            for kind, value in arg:
                if kind is C.NEGATE:
                    return None, False
                if kind is C.LITERAL:
                    chars.add(chr(value))
                elif kind is C.RANGE:
                    chars |= {chr(k) for k in range(value[0], min(value[1], 127) + 1)}
                elif kind is C.CATEGORY:
                    test = {C.CATEGORY_DIGIT: str.isdigit, C.CATEGORY_SPACE: str.isspace,
                            C.CATEGORY_WORD: lambda c: c.isalnum() or c == "_"}.get(value)
                    if test is None:
                        return None, False
                    chars |= {c for c in ascii_set if test(c)}
                else:
                    return None, False
            return chars, False
        if op is C.SUBPATTERN:
            first = of_items(arg[3])
            return (set(first), False) if first is not None else (None, False)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            low, _, items = arg
            first = of_items(items)
            return (set(first), low == 0) if first is not None else (None, False)
        if op is C.BRANCH:
            chars = set()
            for branch in arg[1]:
                first = of_items(branch)
                if first is None:
                    return None, False
                chars |= first
            return chars, False
        return None, False

    try:
        return of_items(_parser.parse(pattern))
    except Exception:
        return None


# The layers worth trying at a character: most lines start with a letter no layer starts with.
_FIRSTS = [(name, pattern, _first_characters(pattern.pattern)) for name, pattern in LAYERS]
_BY_FIRST = {chr(k): tuple((name, pattern) for name, pattern, first in _FIRSTS if first is None or chr(k) in first)
             for k in range(128)}
_ANY_FIRST = tuple((name, pattern) for name, pattern, first in _FIRSTS if first is None)
# Layers only ever first on a line, behind nothing but what carries a whole line (indentation, quotes, a
# container's record, a prompt): grep's file name, a wrapper's label; and the tables without them for the layers
# after a stamp or a program's name (every line tries those tables once per layer it peels).
_LINE_START_ONLY = frozenset({"grep-file", "label"})
_CARRIERS = frozenset({"indent", "quote", "compose", "json", "logfmt", "json-field", "journal-verbose", "cri", "prompt"})
_BY_FIRST_INSIDE = {char: tuple(layer for layer in layers if layer[0] not in _LINE_START_ONLY)
                    for char, layers in _BY_FIRST.items()}
_ANY_FIRST_INSIDE = tuple(layer for layer in _ANY_FIRST if layer[0] not in _LINE_START_ONLY)


def peel(text: str, limit: int = 8) -> Envelope:
    """The envelope layers at the start of text, peeled one after another (at most limit)."""
    at = 0
    end = len(text)
    forms: list[str] = []
    fields: dict = {}
    kernel_at = None
    by_first, any_first = _BY_FIRST, _ANY_FIRST  # every layer while nothing but a line's carriers is peeled
    if text[:1] == "{":  # a JSON record (journalctl -o json, a container's json-file log, logrus/zap/slog JSON)
        found = _json_message(text)
        if found is not None:
            at, end, json_fields = found
            forms.append("json")
            fields.update(json_fields)
    for _ in range(limit):
        for name, pattern in by_first.get(text[at:at + 1], any_first):
            match = pattern.match(text, at, end)
            if match and match.end() > at:
                if name in _KNOWN_PROGRAMS_ONLY and family_of_program(match.group("prog")) is None and not (
                        name == "tracing" and "::" in match.group("prog") and match.group("prog").islower()):
                    # a bracketed word no family owns: the payload's own text ([VKR], [drm] …); a path with capitals
                    # is C++'s (vk::Device::createFence: …), not a Rust module's
                    continue
                if name in _AFTER_STAMP_ONLY and not (forms and forms[-1] in _STAMPS):
                    continue
                forms.append(name)
                if kernel_at is None and name in _KERNEL_STAMPS:
                    kernel_at = at
                if name not in _CARRIERS:
                    by_first, any_first = _BY_FIRST_INSIDE, _ANY_FIRST_INSIDE
                if name in _LAYER_PROGRAM:
                    fields["prog"] = _LAYER_PROGRAM[name]
                for key, value in match.groupdict().items():
                    # the program and level of the innermost layer name the payload's (an env_logger target
                    # inside a journald line); the outermost time, host and pid are the line's
                    if value is not None and (key not in fields or key in _INNER_WINS):
                        fields[key] = value
                at = match.end()
                if name in ("logfmt", "json-field"):  # the message: a quoted string (escapes and all) or one word
                    quoted = _QUOTED.match(text, at, end)
                    if quoted:
                        at, end = at + 1, quoted.end() - 1
                    else:
                        end = _WORD.match(text, at, end).end()
                break
        else:
            break
    if not forms:
        return NONE
    if "pid" in fields:
        fields["pid"] = int(fields["pid"])
    if "priority" in fields:
        priority = KERNEL_PRIORITY[int(fields.pop("priority"))]
        fields.setdefault("level", priority)
    return Envelope(at, tuple(forms), fields, end if end < len(text) else None, kernel_at)



_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_WORD = re.compile(r"\S*")
# A JSON record's keys, by what they hold: the message (journald, Docker, logrus, zap, slog, bunyan), its time, level,
# program and pid. The first key present wins.
# macOS's `log show/stream --style json|ndjson` too (eventMessage, messageType, processImagePath, processID).
_JSON_MESSAGE = ("MESSAGE", "msg", "message", "log", "MSG", "eventMessage")
_JSON_FIELDS = (("time", ("time", "ts", "timestamp", "@timestamp", "__REALTIME_TIMESTAMP")),
                ("level", ("level", "severity", "PRIORITY", "messageType")),
                ("prog", ("SYSLOG_IDENTIFIER", "_COMM", "logger", "name", "processImagePath")),
                ("pid", ("_PID", "SYSLOG_PID", "pid", "processID")))


def _json_message(text: str) -> tuple[int, int, dict] | None:
    """Where a JSON record's message lies in the line (between its quotes, escapes as written), and its other
    fields; None for a line that is no JSON object or has no message string."""
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than a log record ever is
        return None
    if not isinstance(record, dict):
        return None
    for key in _JSON_MESSAGE:
        if isinstance(record.get(key), str):
            break
    else:
        return None
    found = re.search(r'"' + key + r'"\s*:\s*(?="(?:[^"\\]|\\.)*")', text)
    if found is None:
        return None
    at = found.end() + 1
    end = _QUOTED.match(text, found.end()).end() - 1
    if text.endswith("\\n", at, end):  # a container's log keeps the line's newline, escaped
        end -= 2
    fields: dict = {}
    for name, keys in _JSON_FIELDS:
        value = next((record[k] for k in keys if isinstance(record.get(k), (str, int, float))
                      and not isinstance(record.get(k), bool)), None)
        if value is None:
            continue
        if name == "time" and (not isinstance(value, str) or value.isdigit()):
            try:
                seconds = float(value)
            except OverflowError:  # an integer no clock gives: no time
                continue
            value = f"{seconds / 1e6 if seconds > 1e14 else seconds:.6f}"  # journald: microseconds since the epoch
        elif name == "level" and str(value).isdigit():
            fields["priority"] = str(min(int(value), 7))  # journald's PRIORITY, 0 (emerg) to 7 (debug)
            continue
        elif name == "pid" and not str(value).isdigit():
            continue
        fields[name] = str(value)
    return at, end, fields


# After a dmesg-like stamp: journald's short-monotonic "host prog[pid]: ", not a kernel message.
_HOST_PROGRAM = re.compile(r"[\w.\-]+\s+" + _NAME + r"\[\d+\]:\s")


def behind_kernel_stamp(message: str) -> bool:
    """Whether what follows a kernel-like stamp (``[ secs] …``) is another family's line rather than the
    kernel's: a Venus payload, journald's short-monotonic ``host prog[pid]:``, or a further stamp."""
    if message.startswith(("vkr: ", "vn_")) or glued_at(message) == 0 and not message.startswith("[drm"):
        return True
    if _HOST_PROGRAM.match(message):
        return True
    forms = peel(message).forms
    return bool(forms) and forms[0] not in ("indent", "quote")


def glued_positions(text: str, start: int = 0, limit: int = 4):
    """Where families' markers start after other text on the line, leftmost first (at most limit of them)."""
    for _, match in zip(range(limit), _GLUED.finditer(text, start)):
        yield match.start()


def starts_with_marker(text: str) -> bool:
    """Whether text starts with a family's marker (then a marker later on is its own words, not glued output)."""
    return _GLUED.match(text) is not None


def glued_at(text: str, start: int = 0) -> int:
    """Where a family's marker starts after other text on the line (the first of glued_positions), or -1."""
    return next(glued_positions(text, start, 1), -1)
