"""Helpers the command modules share: printing many lines and the end-of-session summary, and
refusing to open a full-screen view without a terminal."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.text import Text

from venustui import textview
from venustui.errors import UserError


def need_terminal(plain: str) -> None:
    """Refuse a full-screen view when stdin or stdout is not a terminal, naming the plain command."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError(f"the TUI needs a terminal on stdin and stdout: run it in one (tmux works), "
                        f"or use '{plain}' for plain output")


def print_lines(console: Console, lines: list[Text]) -> None:
    """Many styled lines at once: one render on a terminal, plain text elsewhere (rich per line cost
    ~150 µs: a summary of thousands of runs took seconds)."""
    if not lines:
        return
    if console.is_terminal:
        console.print(Text("\n").join(lines))
    else:
        sys.stdout.write("".join(line.plain + "\n" for line in lines))
        sys.stdout.flush()


def print_summary(console: Console, model) -> None:
    """The model's summary (runs, devices, queues, fences, ring, handles) and the findings."""
    from venustui.diagnose import diagnose

    print_lines(console, textview.summary(model) + textview.findings(diagnose(model)))


def flag_names(text: str) -> tuple[str, ...]:
    """A comma-separated list of names (VKR_DEBUG, VN_PERF) as a tuple, blanks dropped."""
    return tuple(n.strip() for n in text.split(",") if n.strip())
