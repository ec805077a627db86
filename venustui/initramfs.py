"""A Linux initramfs written by hand: the "newc" cpio format the kernel unpacks, gzip-compressed.

The QEMU lab's guest is a kernel and one of these (busybox, the modules virtio-gpu needs, the pair's
glibc, loader and Venus ICD, the guest program and agent). Written here rather than with cpio(1) so the
lab needs no tool beyond Python, and so the archive is reproducible: entries sorted, times and owners fixed.
"""

from __future__ import annotations

import gzip
import stat
from dataclasses import dataclass
from pathlib import Path

TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Entry:
    """One archive member: a regular file (data), a folder, or a symbolic link (target)."""

    path: str  # inside the guest, without the leading slash
    mode: int
    data: bytes = b""

    @classmethod
    def file(cls, path: str, data: bytes, executable: bool = False) -> "Entry":
        return cls(path.lstrip("/"), stat.S_IFREG | (0o755 if executable else 0o644), data)

    @classmethod
    def folder(cls, path: str) -> "Entry":
        return cls(path.lstrip("/"), stat.S_IFDIR | 0o755)

    @classmethod
    def link(cls, path: str, target: str) -> "Entry":
        return cls(path.lstrip("/"), stat.S_IFLNK | 0o777, target.encode())


def _header(number: int, entry: Entry, name: bytes) -> bytes:
    fields = (number, entry.mode, 0, 0, 1 if not stat.S_ISDIR(entry.mode) else 2, 0, len(entry.data),
              0, 0, 0, 0, len(name) + 1, 0)
    return b"070701" + b"".join(b"%08X" % value for value in fields)


def _pad(length: int) -> bytes:
    return b"\0" * (-length % 4)


def archive(entries: list[Entry]) -> bytes:
    """The uncompressed newc archive: parent folders first (added where missing), then sorted entries."""
    by_path = {e.path: e for e in entries}
    for entry in list(entries):
        parent = Path(entry.path).parent
        while str(parent) not in (".", ""):
            by_path.setdefault(str(parent), Entry.folder(str(parent)))
            parent = parent.parent
    out = bytearray()
    for number, path in enumerate(sorted(by_path), start=1):
        entry = by_path[path]
        name = path.encode()
        head = _header(number, entry, name) + name + b"\0"
        out += head + _pad(len(head)) + entry.data + _pad(len(entry.data))
    end = _header(0, Entry(TRAILER, 0), TRAILER.encode()) + TRAILER.encode() + b"\0"
    out += end + _pad(len(end))
    return bytes(out)


def write(entries: list[Entry], target: Path) -> Path:
    target.write_bytes(gzip.compress(archive(entries), compresslevel=6, mtime=0))
    return target
