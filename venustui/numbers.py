"""Numbers a person types and reads: one rule for bases, signs and ranges, shared by every decoder; sizes said.

A value is hex with ``0x`` or decimal, with an optional sign, ``_`` or ``'`` as digit
separators. A field of N bits holds the unsigned values 0 .. 2**N - 1 and, written
with a minus sign, the signed ones -2**(N-1) .. -1, which mean their two's complement
(logs print the same 64 bits either way: ``%lx`` or ``%ld``). Anything else is a
one-line error naming the input and the range, whatever its sign or base.
"""

from __future__ import annotations

import re

from venustui.errors import UserError

NUMBER = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)")


def parse_integer(text: str, bits: int = 64, what: str = "value") -> int:
    """The unsigned bits-wide value text stands for (a negative one as its two's complement)."""
    raw = text.strip().replace("_", "").replace("'", "")
    match = NUMBER.fullmatch(raw)
    if match is None:
        raise UserError(f"{text!r}: not a {what} (write hex as 0x50000000005 or decimal as 12, "
                        "a minus sign for a signed value)")
    sign, digits = match.groups()
    magnitude = int(digits, 16) if digits[:2].lower() == "0x" else int(digits, 10)
    value = -magnitude if sign == "-" else magnitude
    low, high = -(1 << (bits - 1)), (1 << bits) - 1
    if not low <= value <= high:
        raise UserError(f"{text}: out of range for a {bits}-bit {what} "
                        f"(from {low} to 0x{high:x})")
    return value & high


def as_signed(value: int, bits: int) -> int:
    """The signed reading of an unsigned bits-wide value (0xffffffff as 32 bits is -1)."""
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


def size_text(size: int) -> str:
    """A size in the largest binary unit that divides it (256 MiB, 64 KiB), else in bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} bytes"
