"""ELF facts and edits with pyelftools: what a binary needs from glibc, and marking a version need weak.

Trixie's virglrenderer asks glibc for GLIBC_2.38 only for five C23 symbols; on glibc 2.36 the lab
supplies those itself and marks the GLIBC_2.38 need weak, so the dynamic loader warns instead of
refusing (VENUS_LAB.md).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from venustui.errors import UserError

VER_FLG_WEAK = 0x2


def _open(path: Path):
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise UserError(f"{path}: cannot open: {exc.strerror}") from None
    try:
        return handle, ELFFile(handle)
    except ELFError as exc:
        handle.close()
        raise UserError(f"{path}: not an ELF file ({exc})") from None


def version_needs(path: str | os.PathLike[str]) -> dict[str, list[tuple[str, int]]]:
    """Library → [(version name, flags)] from .gnu.version_r."""
    handle, elf = _open(Path(path))
    with handle:
        section = elf.get_section_by_name(".gnu.version_r")
        if section is None:
            return {}
        return {verneed.name: [(aux.name, aux["vna_flags"]) for aux in auxes]
                for verneed, auxes in section.iter_versions()}


def symbols_with_version(path: str | os.PathLike[str], version: str) -> list[str]:
    """Undefined dynamic symbols bound to a version (e.g. the C23 ones bound to GLIBC_2.38)."""
    handle, elf = _open(Path(path))
    with handle:
        dynsym = elf.get_section_by_name(".dynsym")
        versym = elf.get_section_by_name(".gnu.version")
        verneed = elf.get_section_by_name(".gnu.version_r")
        if dynsym is None or versym is None or verneed is None:
            return []
        index_names = {aux["vna_other"]: aux.name for _, auxes in verneed.iter_versions() for aux in auxes}
        out = []
        for number, symbol in enumerate(dynsym.iter_symbols()):
            ndx = versym.get_symbol(number)["ndx"]
            if isinstance(ndx, int) and index_names.get(ndx & 0x7FFF) == version and symbol["st_shndx"] == "SHN_UNDEF":
                out.append(symbol.name)
        return out


def mark_version_weak(path: str | os.PathLike[str], prefix: str) -> int:
    """Set VER_FLG_WEAK on every version need whose name starts with prefix; returns how many changed."""
    path = Path(path)
    handle, elf = _open(path)
    patches = []
    with handle:
        section = elf.get_section_by_name(".gnu.version_r")
        if section is None:
            return 0
        base = section["sh_offset"]
        little = elf.little_endian
        offset = 0
        for verneed, auxes in section.iter_versions():
            aux_offset = offset + verneed["vn_aux"]
            for aux in auxes:
                if aux.name.startswith(prefix) and not aux["vna_flags"] & VER_FLG_WEAK:
                    # Elf_Vernaux: vna_hash (4 bytes), then vna_flags (2 bytes).
                    patches.append((base + aux_offset + 4, aux["vna_flags"] | VER_FLG_WEAK))
                aux_offset += aux["vna_next"]
            offset += verneed["vn_next"]
    with open(path, "r+b") as out:
        for position, flags in patches:
            out.seek(position)
            out.write(struct.pack("<H" if little else ">H", flags))
    return len(patches)
