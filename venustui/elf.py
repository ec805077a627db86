"""ELF facts with pyelftools: what a binary needs from glibc, its Mesa version, build-id, and the
option tables (VN_PERF, VN_DEBUG, VKR_DEBUG names and bits) read from the binary itself, whether
its pointers are RELA or packed RELR relocations; and symbolization of backtraces.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelrRelocationSection

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


# Inspection ------------------------------------------------------------------------------
MACHO_MAGICS = {b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"}
RELATIVE_TYPES = {8, 1027, 23}  # R_X86_64_RELATIVE, R_AARCH64_RELATIVE, R_386_RELATIVE
# An option table is found through one name only it would hold (init or cache occur everywhere).
TABLE_ANCHORS = {
    "VN_PERF": (b"no_async_set_alloc", b"no_fence_feedback", b"no_cmd_batching"),
    "VN_DEBUG": (b"no_abort", b"log_ctx_info", b"vtest"),
    "VKR_DEBUG": (b"validate",),
}
MESA_VERSION = re.compile(rb"Mesa (\d+\.\d+(?:\.\d+)?)")
MESA_PACKAGE_VERSION = re.compile(rb"\x00([2-9]\d\.\d+\.\d+(?:-[-~+.\w]*)?)\x00")


@dataclass
class ElfFacts:
    path: str
    size: int
    arch: str
    bits: int
    endian: str
    build_id: str = ""
    soname: str = ""
    needed: list[str] = field(default_factory=list)
    glibc_needs: list[str] = field(default_factory=list)  # GLIBC_x.y versions asked for, weak ones marked
    glibc_max: str = ""
    mesa_version: str = ""
    flags: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # VN_PERF → [(name, bit value)]
    debug_info: bool = False
    symtab: bool = False
    debuglink: str = ""
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = dict(self.__dict__)
        data["flags"] = {k: [{"name": n, "value": hex(v)} for n, v in names] for k, names in self.flags.items()}
        return data


def inspect(path: str | os.PathLike[str]) -> ElfFacts:
    """Everything worth knowing about a driver or server binary, or a one-line UserError."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory (give a library or a program, or --icd NAME)")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise UserError(f"{path}: cannot open: {exc.strerror}") from None
    if head in MACHO_MAGICS:
        raise UserError(f"{path}: not an ELF file: a Mach-O binary (macOS); inspect on the Linux side "
                        "(the guest's driver or a Linux host's render server)")
    if head != b"\x7fELF":
        raise UserError(f"{path}: not an ELF file (starts with {head!r})")
    handle, elf = _open(path)
    with handle:
        try:
            return _facts(path, elf)
        except (ELFError, struct.error, ValueError, IndexError) as exc:
            raise UserError(f"{path}: a damaged or truncated ELF file ({exc})") from None


def _facts(path: Path, elf: ELFFile) -> ElfFacts:
    facts = ElfFacts(str(path), path.stat().st_size, elf["e_machine"].removeprefix("EM_"), elf.elfclass,
                     "little" if elf.little_endian else "big")
    for section in elf.iter_sections():
        name = section.name
        if name.startswith(".debug_info") or name == ".gnu_debugaltlink":
            facts.debug_info = facts.debug_info or name.startswith(".debug_info")
        elif name == ".symtab":
            facts.symtab = True
        elif name == ".gnu_debuglink":
            facts.debuglink = section.data().split(b"\0", 1)[0].decode(errors="replace")
        elif section["sh_type"] == "SHT_NOTE":
            for note in section.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    facts.build_id = note["n_desc"]
        elif section["sh_type"] == "SHT_DYNAMIC":
            for tag in section.iter_tags():
                if tag.entry.d_tag == "DT_NEEDED":
                    facts.needed.append(tag.needed)
                elif tag.entry.d_tag == "DT_SONAME":
                    facts.soname = tag.soname
    for library, versions in _version_needs(elf).items():
        if library.startswith("libc.so"):
            facts.glibc_needs = [name + (" (weak)" if flags & VER_FLG_WEAK else "") for name, flags in versions]
    strong = [v for v in facts.glibc_needs if not v.endswith("(weak)") and v.startswith("GLIBC_2.")]
    if strong:
        facts.glibc_max = max(strong, key=lambda v: tuple(int(x) for x in v[6:].split(".") if x.isdigit()))
    rodata = elf.get_section_by_name(".rodata")
    if rodata is not None:
        data = rodata.data()
        facts.mesa_version = _mesa_version(data)
        relocs = _relative_relocs(elf)
        if relocs:
            for variable, anchors in TABLE_ANCHORS.items():
                table = _option_table(elf, rodata, data, relocs, anchors)
                if table:
                    facts.flags[variable] = table
        else:
            facts.problems.append("no RELATIVE relocations: option tables not read (a static binary)")
    return facts


def _version_needs(elf: ELFFile) -> dict[str, list[tuple[str, int]]]:
    section = elf.get_section_by_name(".gnu.version_r")
    if section is None:
        return {}
    return {verneed.name: [(aux.name, aux["vna_flags"]) for aux in auxes] for verneed, auxes in section.iter_versions()}


def _mesa_version(rodata: bytes) -> str:
    match = MESA_VERSION.search(rodata)
    if not match:
        # Mesa 26.2 builds "Mesa <version>" in code; the package version is still a string of its own.
        bare = MESA_PACKAGE_VERSION.search(rodata)
        return bare.group(1).decode(errors="replace") if bare else ""
    base = match.group(1)
    # The full package version often sits elsewhere as its own string: "25.0.7-2~bpo12+1".
    full = re.search(rb"\x00(" + re.escape(base) + rb"[-~+.\w]*)\x00", rodata)
    return (full.group(1) if full else base).decode(errors="replace")


def _relative_relocs(elf: ELFFile) -> dict[int, int]:
    """Address → the pointer the dynamic loader stores there: RELA's explicit addends, and RELR's
    packed ones (``-z pack-relative-relocs``), whose addend is the word already in the file."""
    out: dict[int, int] = {}
    width = elf.elfclass // 8
    order = "little" if elf.little_endian else "big"
    for section in elf.iter_sections():
        if section["sh_type"] == "SHT_RELA":
            for reloc in section.iter_relocations():
                if reloc["r_info_type"] in RELATIVE_TYPES:
                    out[reloc["r_offset"]] = reloc["r_addend"]
        elif isinstance(section, RelrRelocationSection):
            for reloc in section.iter_relocations():
                word = _read(elf, reloc["r_offset"], width)
                if word is not None:
                    out[reloc["r_offset"]] = int.from_bytes(word, order)
    return out


def _read(elf: ELFFile, address: int, size: int) -> bytes | None:
    for segment in elf.iter_segments():
        if segment["p_type"] != "PT_LOAD":
            continue
        start = segment["p_vaddr"]
        if start <= address and address + size <= start + segment["p_filesz"]:
            elf.stream.seek(segment["p_offset"] + address - start)
            return elf.stream.read(size)
    return None


def _option_table(elf, rodata, data: bytes, relocs: dict[int, int], anchors) -> list[tuple[str, int]]:
    """The {name, value[, description]} array whose entries point at one of the anchor names."""
    base = rodata["sh_addr"]
    end = base + len(data)

    def name_at(address: int) -> str | None:
        if not base <= address < end:
            return None
        raw = data[address - base:address - base + 64].split(b"\0", 1)[0]
        return raw.decode() if raw and all(33 <= c < 127 for c in raw) else None

    for anchor in anchors:
        targets = {base + m.start() for m in re.finditer(re.escape(anchor) + b"\x00", data)
                   if m.start() == 0 or data[m.start() - 1] == 0}
        entry = next((offset for offset, addend in relocs.items() if addend in targets), None)
        if entry is None:
            continue
        stride = 24 if entry + 24 in relocs and entry + 16 in relocs else 16
        start = entry
        while start - stride in relocs and name_at(relocs[start - stride]) is not None:
            start -= stride
        table = []
        position = start
        while position in relocs:
            name = name_at(relocs[position])
            raw = _read(elf, position + 8, 8)
            if name is None or raw is None:
                break
            table.append((name, int.from_bytes(raw, "little" if elf.little_endian else "big")))
            position += stride
        if table:
            return table
    return []


# Symbolization -------------------------------------------------------------------------------
BACKTRACE_FORMS = (
    # gdb: "#2  0x00007f3a2c1d4e15 in ?? () from /usr/lib/x86_64-linux-gnu/libvulkan_virtio.so"
    re.compile(r"#(?P<frame>\d+)\s+0x(?P<address>[0-9a-fA-F]+) in (?P<function>\S+) \([^)]*\) from (?P<library>/\S+)"),
    # glibc backtrace_symbols: "/usr/lib/.../libvulkan_virtio.so(+0x4e15) [0x7f…]" or "(vn_foo+0x15)"
    re.compile(r"(?P<library>/\S+?\.so[.\d]*)\((?P<function>[^)+]*)\+0x(?P<offset>[0-9a-fA-F]+)\)"),
    # eu-stack: "#2  0x00007f3a2c1d4e15 vn_foo - /usr/lib/.../libvulkan_virtio.so"
    re.compile(r"#(?P<frame>\d+)\s+0x(?P<address>[0-9a-fA-F]+)\s+(?P<function>\S+)?\s*-\s*(?P<library>/\S+)"),
)
DEBUG_ROOTS = ("/usr/lib/debug",)


@dataclass
class Frame:
    line: str
    library: str
    offset: int | None
    function: str = ""
    source: str = ""
    note: str = ""

    def text(self) -> str:
        where = f"{Path(self.library).name}+0x{self.offset:x}" if self.offset is not None else self.library
        what = self.function or "??"
        return f"{where}: {what}" + (f" at {self.source}" if self.source else "") + (f"  ({self.note})" if self.note else "")


def parse_backtrace(text: str) -> list[tuple[str, str, int | None, int | None, str]]:
    """(line, library, absolute address, offset, function as printed) for each backtrace line."""
    out = []
    for line in text.splitlines():
        for form in BACKTRACE_FORMS:
            match = form.search(line)
            if match:
                groups = match.groupdict()
                address = int(groups["address"], 16) if groups.get("address") else None
                offset = int(groups["offset"], 16) if groups.get("offset") else None
                out.append((line.strip(), groups["library"], address, offset, groups.get("function") or ""))
                break
    return out


def debug_file_for(library: str, facts: ElfFacts, roots=DEBUG_ROOTS) -> tuple[str | None, list[str]]:
    """The separate debug file for a stripped library, and every place looked."""
    looked = []
    folder = Path(library).parent
    if facts.build_id:
        for root in roots:
            looked.append(str(Path(root) / ".build-id" / facts.build_id[:2] / f"{facts.build_id[2:]}.debug"))
    if facts.debuglink:
        for root in (str(folder), str(folder / ".debug"), *(str(Path(r) / folder.relative_to("/")) for r in roots)):
            looked.append(str(Path(root) / facts.debuglink))
    for candidate in looked:
        if os.path.isfile(candidate):
            return candidate, looked
    return None, looked


def symbolize(text: str, *, roots=DEBUG_ROOTS, bases: dict[str, int] | None = None) -> list[Frame]:
    """Function and source line for each backtrace line found in text, or what is missing and where we looked."""
    frames = []
    cache: dict[str, tuple] = {}
    for line, library, address, offset, printed in parse_backtrace(text):
        frame = Frame(line, library, offset, printed if printed not in ("??", "") else "")
        if not os.path.isfile(library):
            frame.note = f"{library} is not on this machine: symbolize where the binary is"
            frames.append(frame)
            continue
        if offset is None:
            base = (bases or {}).get(Path(library).name, (bases or {}).get(library))
            if base is not None:
                offset = address - base
            elif address is not None and address < os.path.getsize(library) * 4:
                offset = address  # small enough to be an offset already (a non-PIE or relative print)
            else:
                frame.note = (f"absolute address 0x{address:x}: give the load base of {Path(library).name} "
                              "(--base NAME=0x… from /proc/PID/maps)")
                frames.append(frame)
                continue
            frame.offset = offset
        if library not in cache:
            cache[library] = _debug_source(library, roots)
        source_path, facts, note = cache[library]
        if source_path is None:
            frame.note = note
            frame.function = frame.function or _function_at(library, offset) or ""
        else:
            frame.function = _function_at(source_path, offset) or frame.function
            frame.source = _line_at(source_path, offset)
            if source_path != library:
                frame.note = f"from {source_path}"
        frames.append(frame)
    return frames


def _debug_source(library: str, roots) -> tuple[str | None, ElfFacts, str]:
    facts = inspect(library)
    if facts.debug_info:
        return library, facts, ""
    found, looked = debug_file_for(library, facts, roots)
    if found:
        return found, facts, ""
    return None, facts, (f"stripped (build-id {facts.build_id or 'none'}): needs its debug file, looked in "
                         + ", ".join(looked))


def _function_at(path: str, offset: int) -> str | None:
    handle, elf = _open(Path(path))
    with handle:
        best = None
        for name in (".symtab", ".dynsym"):
            section = elf.get_section_by_name(name)
            if section is None:
                continue
            for symbol in section.iter_symbols():
                if symbol["st_info"]["type"] != "STT_FUNC" or not symbol["st_value"]:
                    continue
                start, size = symbol["st_value"], symbol["st_size"]
                if start <= offset < start + max(size, 1):
                    return symbol.name
                if start <= offset and (best is None or start > best[0]):
                    best = (start, symbol.name)
        return f"{best[1]}+0x{offset - best[0]:x}" if best else None


def _line_at(path: str, offset: int) -> str:
    handle, elf = _open(Path(path))
    with handle:
        if not elf.has_dwarf_info():
            return ""
        dwarf = elf.get_dwarf_info()
        for unit in dwarf.iter_CUs():
            program = dwarf.line_program_for_CU(unit)
            if program is None:
                continue
            previous = None
            for entry in program.get_entries():
                state = entry.state
                if state is None:
                    continue
                if previous is not None and previous.address <= offset < state.address and not previous.end_sequence:
                    file_entry = program["file_entry"][previous.file - (0 if program.header.version >= 5 else 1)]
                    name = file_entry.name.decode(errors="replace")
                    return f"{name}:{previous.line}"
                previous = state
        return ""
