"""How the model is said, once per concept, for every screen: `watch`'s summary, the TUI's panes and reports.

Each module turns a part of the model into ``Row``s: plain text and a tone (what it means, not
how it looks). A screen maps tones to its styles (``textview`` and the TUI to Rich styles, a
report to nothing at all); the words are the same everywhere.
"""

from __future__ import annotations

from typing import NamedTuple

# Tones a row can have.
PLAIN, DIM, GOOD, WARN, BAD, FATAL, HEADING = "", "dim", "good", "warn", "bad", "fatal", "heading"


class Row(NamedTuple):
    text: str
    tone: str = PLAIN


def hexs(value: int | None) -> str:
    return "-" if value is None else f"0x{value:x}"


def span(seconds: float, whole: bool = False) -> str:
    """A time between two lines' arrivals: ms under a second (unless whole seconds are asked for)."""
    seconds = max(0.0, seconds)
    if seconds < 1 and not whole:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.0f} s" if whole else f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"
