"""What a 64-bit handle value could be: every plausible layout, ranked, with a bit diagram.

Venus debugging meets values from several worlds: guest driver pointers, Venus
object ids, host driver handles (pointers for MoltenVK and lavapipe), and ids
wrapped by the Khronos validation layer (``id | hash(id) << 40``, where the hash
of an integer is the identity with libstdc++ and libc++). Telling them apart is
half of reading a Venus log.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from venustui.numbers import parse_integer

MASK64 = (1 << 64) - 1
LOW40 = (1 << 40) - 1


@dataclass(frozen=True)
class Field:
    hi: int
    lo: int
    name: str

    def value(self, v: int) -> int:
        return (v >> self.lo) & ((1 << (self.hi - self.lo + 1)) - 1)


@dataclass(frozen=True)
class Layout:
    key: str
    score: float
    title: str
    explanation: str
    fields: tuple[Field, ...] = field(default_factory=tuple)


# (low, high, description) of address ranges where heaps and mappings live.
POINTER_RANGES = (
    (0x0000_0000_0040_0000, 0x0000_0000_4000_0000, "Linux heap of a non-PIE process (brk after the binary)"),
    (0x0000_0001_0000_0000, 0x0000_0010_0000_0000, "macOS arm64 malloc region (9-10 hex digits)"),
    (0x0000_5500_0000_0000, 0x0000_5700_0000_0000, "Linux x86-64 heap of a PIE process (brk)"),
    (0x0000_6000_0000_0000, 0x0000_7000_0000_0000, "macOS malloc zone (0x6000…)"),
    (0x0000_7f00_0000_0000, 0x0000_8000_0000_0000, "Linux x86-64 mmap region (thread arenas, libraries, driver memory)"),
    (0x0000_aaaa_0000_0000, 0x0000_ab00_0000_0000, "Linux aarch64 heap of a PIE process (brk)"),
    (0x0000_ffff_0000_0000, 0x0001_0000_0000_0000, "Linux aarch64 mmap region"),
)


def parse_value(text: str) -> int:
    """Hex with 0x, or decimal (host messages print object ids in decimal); signed values wrap to 64 bits."""
    return parse_integer(text, 64, "handle value")


def trailing_zeros(value: int) -> int:
    return (value & -value).bit_length() - 1 if value else 64


def decode(value: int) -> list[Layout]:
    """Every layout that fits, best first."""
    layouts = [layout for layout in (
        _null(value), _wrapped(value), _pointer(value), _object_id(value), _split32(value)) if layout]
    return sorted(layouts, key=lambda layout: -layout.score)


def _null(v: int) -> Layout | None:
    if v:
        return None
    return Layout("null", 1.0, "VK_NULL_HANDLE",
                  "Zero is the null handle: nothing was created, or the value was never filled in.",
                  (Field(63, 0, "0"),))


@functools.lru_cache(maxsize=1 << 15)
def best_key(value: int) -> str:
    """The key of the best layout (cached: diagnosis asks again for the same values at every redraw)."""
    return decode(value)[0].key


def validation_shaped(v: int) -> bool:
    """The only values _wrapped calls validation-layer ids: the id in the low 40 bits, repeated above."""
    low = v & LOW40
    return bool(low) and v >> 40 == low


def _wrapped(v: int) -> Layout | None:
    low, high = v & LOW40, v >> 40
    if not low or not high:
        return None
    fields = (Field(63, 40, f"hash(id) = {high}"), Field(39, 0, f"id = {low}"))
    if validation_shaped(v):
        return Layout(
            "validation-id", 0.97, f"validation-layer unique id {low}",
            f"The Khronos validation layer wraps every non-dispatchable handle as id | hash(id) << 40 "
            f"with an identity hash, so this is the layer's object number {low}, not a driver value: a layer "
            f"sits between caller and driver (on a render server, VKR_DEBUG=validate or all), and the same "
            f"objects created in the same order get the same ids in every run and on every device.",
            fields)
    if low < 1 << 24:
        return Layout(
            "wrapped-id", 0.3, f"wrapped id {low} with a non-identity hash",
            "Shaped like a validation-layer wrapped handle (id in the low 40 bits) but the high bits are "
            "not the id: a layer built with another C++ library's hash, or not a wrapped handle at all.",
            fields)
    return None


def _pointer(v: int) -> Layout | None:
    if v < 0x10000 or v >= 1 << 57:
        return None
    zeros = min(trailing_zeros(v), 12)
    region = next((desc for lo, hi, desc in POINTER_RANGES if lo <= v < hi), None)
    score = 0.45 if region else 0.15
    if zeros >= 4:
        score += 0.4
    elif zeros == 3:
        score += 0.35
    else:
        score -= 0.3 if zeros == 0 else 0.2
    score = max(0.01, min(score, 0.9))
    where = region or "no usual heap or mapping range"
    align = f"aligned to {1 << zeros} bytes" if zeros else "odd (not even 2-byte aligned)"
    canonical = "a canonical 48-bit user address" if v < 1 << 47 else "above the 48-bit user range"
    explanation = (f"A pointer-like value: {where}, {align}, {canonical}. Driver handles that are object "
                   f"pointers (MoltenVK, lavapipe, most native drivers) look like this; so do guest-side "
                   f"Venus handles, which point at the guest driver's own structs.")
    width = max(v.bit_length(), 48 if v >= 1 << 40 else v.bit_length())
    fields = [Field(63, width, "zero")] if width < 64 else []
    if zeros:
        fields += [Field(width - 1, zeros, f"address bits ({where.split(' (')[0]})"), Field(zeros - 1, 0, "alignment 0s")]
    else:
        fields += [Field(width - 1, 0, "address bits")]
    return Layout("pointer", score, f"pointer-like ({where.split(' (')[0]})", explanation, tuple(fields))


def _object_id(v: int) -> Layout | None:
    if not 0 < v < 10_000_000:
        return None
    score = 0.6 if v < 100_000 else 0.3
    return Layout(
        "object-id", score, f"small counter id {v}",
        "A small integer: a Venus object id (Mesa 24.1 and newer number every object from 1 in one "
        "process-wide counter; host messages such as 'object N has type …' print these in decimal), "
        "or another per-process counter.",
        (Field(63, 32, "zero"), Field(31, 0, f"id = {v}")))


def _split32(v: int) -> Layout | None:
    high, low = v >> 32, v & 0xFFFF_FFFF
    if not high:
        return None
    small = high < 1 << 16 and 0 < low < 1 << 16
    score = 0.35 if small else 0.1
    note = ""
    if high == low:
        note = f" Note (n << 32) | n is this shape; the validation layer's (n << 40) | n is 0x{(low << 40) | low:x}."
    return Layout(
        "split32", score, f"two 32-bit halves: hi {high} (0x{high:x}), lo {low} (0x{low:x})",
        "Read as two 32-bit fields, as a protocol packing an index and a generation would." + note,
        (Field(63, 32, f"hi = {high}"), Field(31, 0, f"lo = {low}")))


def bit_diagram(value: int, fields: tuple[Field, ...]) -> list[str]:
    """Three lines: bit numbers, the bits grouped by four within each field, the field names."""
    tops, bits, names = [], [], []
    for f in fields:
        width = f.hi - f.lo + 1
        raw = format(f.value(value), f"0{width}b")
        groups = []
        while raw:
            groups.insert(0, raw[-4:])
            raw = raw[:-4]
        cell = " ".join(groups)
        span = f"{f.hi}" if f.hi == f.lo else f"{f.hi}{' ' * max(1, len(cell) - len(str(f.hi)) - len(str(f.lo)))}{f.lo}"
        size = max(len(cell), len(span), min(len(f.name), 40))
        tops.append(span.ljust(size))
        bits.append(cell.ljust(size))
        names.append(f.name[:size].ljust(size))
    return [" │ ".join(tops).rstrip(), " │ ".join(bits).rstrip(), " │ ".join(names).rstrip()]


def as_dict(value: int, layout: Layout) -> dict:
    return {
        "layout": layout.key,
        "score": round(layout.score, 3),
        "title": layout.title,
        "explanation": layout.explanation,
        "fields": [{"bits": [f.hi, f.lo], "name": f.name, "value": f.value(value)} for f in layout.fields],
    }
