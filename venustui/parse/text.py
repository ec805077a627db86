"""Decoding a raw line once, and making log text safe to show.

Log text is never markup and never reaches the terminal with its escape
sequences: ``decode`` removes ANSI/OSC sequences for matching (and colour codes
that lost their ESC on a web page); ``shown`` keeps them for a person to see,
and ``visible`` turns every control character into a printable escape
(``title \x1b]0;pwned\x07 after`` shows as exactly that, and sets no title).
"""

from __future__ import annotations

import re

from venustui.parse.rules import HANDLE

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-byte ESC sequences.
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
# Colour codes whose ESC was lost on the way into a web page or a mail ("[2m2025-…[0m [33m WARN[0m"): taken as
# such only beside a reset and another code, so "[0m" alone in a message stays text; a bare "[m" only before a
# space or the end (MoltenVK's "[mvk-error]" is a word).
LOST_ESCAPES = re.compile(r"\[(?:[0-9;]{1,12}m|m(?![^\s\[]))")
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Spaces a web page or a rich-text editor puts where a log had plain ones (no-break, narrow, figure, ideographic), and
# zero-width characters and a byte-order mark it adds: read as the log wrote them (shown as they came).
WEB_CHARACTERS = re.compile(r"[\u00a0\u2000-\u200b\u202f\u205f\u2060\u3000\ufeff]")
WEB_PLAIN = {**{ord(c): " " for c in "\u00a0\u202f\u205f\u3000"}, **{c: " " for c in range(0x2000, 0x200b)},
             **{ord(c): None for c in "\u200b\u2060\ufeff"}}


def decode(data: bytes) -> str:
    """UTF-8 with replacement, a trailing CR dropped (CRLF logs), escape sequences removed (those that
    lost their ESC too), a web page's no-break and zero-width characters read as the plain text they stand for."""
    text = data.decode("utf-8", "replace")
    if text.endswith("\r"):
        text = text[:-1]
    if "\x1b" in text or "\x9b" in text:
        text = ESCAPES.sub("", text)
    if "[0m" in text and len(LOST_ESCAPES.findall(text)) >= 2:
        text = LOST_ESCAPES.sub("", text)
    if not text.isascii() and WEB_CHARACTERS.search(text):
        text = text.translate(WEB_PLAIN)
    return text


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return "\\0" if ch == "\x00" else f"\\x{ord(ch):02x}"


def visible(text: str, limit: int | None = None) -> str:
    """Control characters shown as \\xNN (NUL as \\0), tabs expanded; cut at limit with a marker."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"… [{len(text) - limit} more chars]"
    text = text.replace("\t", "    ")
    return CONTROLS.sub(_escape, text)


def raw_text(data: bytes) -> str:
    """A line as written (UTF-8 with replacement, a trailing CR dropped), escape sequences kept."""
    text = data.decode("utf-8", "replace")
    return text[:-1] if text.endswith("\r") else text


def shown(data: bytes, limit: int | None = None) -> str:
    """A raw line made safe to show: its escape sequences visible as text, never acted on."""
    return visible(raw_text(data), limit)


def find_handles(text: str) -> tuple[int, ...]:
    if "0x" not in text:
        return ()
    found = HANDLE.findall(text)
    if "MessageID = " in text:  # a validation message's id is not an object
        found = [h for h in found if f"MessageID = {h}" not in text]
    if len(found) == 1:
        return (int(found[0], 16),)
    values: list[int] = []
    for h in found:
        value = int(h, 16)
        if value not in values:
            values.append(value)
    return tuple(values)
