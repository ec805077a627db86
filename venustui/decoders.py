"""What a number in a log means besides a handle: virtio-gpu control types and responses, Hypervisor.framework
hv_return_t, errno (Linux or macOS numbering) and VkResult, each by name with a one-line meaning.

The tables are data, ``venustui/knowledge/codes.toml``, each naming the header and version it was
written from; they are read once. A value is read by ``numbers.parse_integer``'s one rule as a 32-bit
field (hex or decimal, a minus sign meaning two's complement), then as its kind reads it: virtio-gpu
types and hv_return_t unsigned (so the signed decimal a log prints, -85377021, is 0xfae94003), VkResult
signed (-3, or 0xfffffffd), errno by its magnitude (-22, the kernel's -errno, is EINVAL 22). A value no
table knows is named None and "unknown <kind> value", never an error; text that is no number is a
one-line ``UserError``. Handles stay with ``venustui/handles.py``.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

from venustui.errors import UserError
from venustui.numbers import as_signed, parse_integer

KINDS = ("virtio-gpu", "hv", "errno", "vkresult")
PLATFORMS = ("linux", "macos")
BITS = 32

# What parse_integer calls a value of each kind in its errors, and an example to write.
_WHAT = {
    "virtio-gpu": ("virtio-gpu type", "0x209 or 521"),
    "hv": ("Hypervisor.framework return code", "0xfae94003 or -85377021"),
    "errno": ("system error number", "22 or -22"),
    "vkresult": ("VkResult", "-3 or 0xfffffffd"),
}

# Unknown virtio-gpu types by their range in enum virtio_gpu_ctrl_type.
_VIRTIO_RANGES = {
    0x01: "2D command range (0x0100..)",
    0x02: "3D/blob command range (0x0200..)",
    0x03: "cursor command range (0x0300..)",
    0x11: "OK response range (0x1100..)",
    0x12: "error response range (0x1200..)",
}
_HV_ERRORS = 0xFAE94000  # err_local | err_sub(0xba5): every hv_return_t error is this | code


@dataclass(frozen=True)
class Entry:
    value: int
    name: str
    meaning: str
    aliases: tuple[str, ...] = ()
    symbol: str | None = None


@dataclass(frozen=True)
class Table:
    key: str  # "errno-linux"
    source: str  # the header and version the table was written from
    cite: str  # the same, short, for one line of output
    entries: dict[int, Entry]


@dataclass(frozen=True)
class Decoded:
    value: int  # as the table keys it: unsigned for virtio-gpu and hv, signed for vkresult, the errno number
    kind: str
    name: str | None  # None when no table knows the value
    meaning: str
    table: str  # which table answered, e.g. "errno-linux"
    note: str | None = None


def _key(kind: str, value: int) -> int:
    """A table's own value (as codes.toml writes it) -> the value decode() looks it up by."""
    if kind == "vkresult":
        return value
    return abs(value) if kind == "errno" else value & ((1 << BITS) - 1)


@functools.cache
def tables() -> dict[str, Table]:
    """Every table in codes.toml by its key, read once."""
    text = (resources.files("venustui") / "knowledge" / "codes.toml").read_text(encoding="utf-8")
    result = {}
    for key, data in tomllib.loads(text).items():
        kind = "errno" if key.startswith("errno-") else key
        entries = {}
        for code in data["codes"]:
            entry = Entry(_key(kind, code["value"]), code["name"], code["meaning"],
                          tuple(code.get("aliases", ())), code.get("symbol"))
            entries[entry.value] = entry
        result[key] = Table(key, data["source"], data["cite"], entries)
    return result


def source(table: str) -> str:
    """The header and version a table was written from (its `source` line)."""
    return tables()[table].source


def _table_for(kind: str, platform: str | None) -> str:
    return f"errno-{platform or 'linux'}" if kind == "errno" else kind


def _read(text: str, kind: str) -> int:
    what, example = _WHAT[kind]
    try:
        raw = parse_integer(text.strip(), BITS, what)
    except UserError as exc:
        raise UserError(f"{exc}; for example {example}") from None
    if kind == "vkresult":
        return as_signed(raw, BITS)
    if kind == "errno":
        return abs(as_signed(raw, BITS))
    return raw


def _unknown_note(kind: str, value: int) -> str | None:
    if kind == "virtio-gpu" and value >> 8 in _VIRTIO_RANGES and value <= 0xFFFF:
        return f"in the {_VIRTIO_RANGES[value >> 8]}, not in this table (a newer header?)"
    if kind == "hv" and value & ~0xFFF == _HV_ERRORS:
        return "in Hypervisor.framework's error range (0xfae94000 | code), not in this table"
    if kind == "vkresult" and abs(value) >= 1_000_000_000:
        extension = (abs(value) - 1_000_000_000) // 1000 + 1
        return f"in the range of Vulkan extension number {extension}, not in this table"
    return None


def _errno_note(linux: Entry | None, value: int) -> str | None:
    """Linux answered for a caller who named no platform: what macOS would make of the number, where it differs."""
    macos = tables()["errno-macos"].entries.get(value)
    if (linux and linux.name) == (macos and macos.name):
        return None
    if macos is None:
        return f"Linux numbering; macOS has no errno {value}"
    return f"Linux numbering; macOS would be {macos.name} ({macos.meaning})"


def decode(text: str, kind: str, platform: str | None = None) -> Decoded:
    """What the value text stands for as a kind ("virtio-gpu", "hv", "errno", "vkresult").

    platform ("linux" or "macos") picks errno's numbering; without one Linux answers and the note
    says what macOS would read where the two differ. Unknown values are named None; text that is no
    value of the kind's 32 bits raises UserError.
    """
    if kind not in KINDS:
        raise UserError(f"{kind!r}: not a kind of value to decode (one of {', '.join(KINDS)}; "
                        "handles: venustui decode HANDLE)")
    if platform is not None and platform not in PLATFORMS:
        raise UserError(f"{platform!r}: not a platform (linux or macos)")
    value = _read(text, kind)
    table = tables()[_table_for(kind, platform)]
    entry = table.entries.get(value)
    notes = []
    if kind == "errno" and platform is None and (differs := _errno_note(entry, value)):
        notes.append(differs)
    if entry is None and (hint := _unknown_note(kind, value)):
        notes.append(hint)
    if entry is not None and entry.aliases:
        notes.append("also spelled " + ", ".join(entry.aliases))
    return Decoded(
        value=value,
        kind=kind,
        name=entry.name if entry else None,
        meaning=entry.meaning if entry else f"unknown {kind} value",
        table=table.key,
        note="; ".join(notes) or None,
    )


def shown(decoded: Decoded) -> str:
    """The value as people write it for its kind: hex for virtio-gpu and hv, decimal for errno and VkResult."""
    return f"0x{decoded.value:x}" if decoded.kind in ("virtio-gpu", "hv") else str(decoded.value)


def describe(decoded: Decoded) -> str:
    """One line: value, kind, name — meaning (the table's source), then any note."""
    line = (f"{shown(decoded)}  {decoded.kind}  {decoded.name or '?'} — {decoded.meaning} "
            f"({tables()[decoded.table].cite})")
    return f"{line}; {decoded.note}" if decoded.note else line


def inline(value_text: str, kind: str, platform: str | None = None) -> str:
    """The raw value with its name beside it, for findings: "0x209 (RESOURCE_UNMAP_BLOB)".

    A finding never fails on a value its log garbled: text that is no value of the kind comes back as
    it is, unannotated (decode() says why). A kind or platform that does not exist still raises.
    """
    if kind not in KINDS or (platform is not None and platform not in PLATFORMS):
        decode("0", kind, platform)  # raises the one-line error naming the kind or platform
    try:
        decoded = decode(value_text, kind, platform)
    except UserError:
        return value_text.strip()
    return f"{value_text.strip()} ({decoded.name or decoded.meaning})"
