"""Driver inspection: ICD discovery as the loader does it, ELF facts, flag tables, symbolization, bad input."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from venustui import elf, loader
from venustui.lab import Lab

from ..conftest import run_cli

DEMO_C = """int leaf(int x) {
    return x * 3 + 1;
}

int middle(int x) {
    return leaf(x) + 2;
}
"""


@pytest.fixture(scope="module")
def demo_lib(tmp_path_factory):
    """A small library built with -g at test time, and a stripped copy with a separate debug file."""
    if not shutil.which("gcc") or not shutil.which("objcopy"):
        if os.environ.get("CI") == "true":
            pytest.fail("gcc and binutils are needed (make test installs them with the lab)")
        pytest.skip("no gcc/objcopy here")
    folder = tmp_path_factory.mktemp("elf")
    (folder / "demo.c").write_text(DEMO_C)
    lib = folder / "libdemo.so"
    subprocess.run(["gcc", "-g", "-O0", "-shared", "-fPIC", "-o", str(lib), str(folder / "demo.c")], check=True)
    stripped = folder / "stripped" / "libdemo.so"
    stripped.parent.mkdir()
    shutil.copy(lib, stripped)
    debug = folder / "libdemo.debug"
    subprocess.run(["objcopy", "--only-keep-debug", str(lib), str(debug)], check=True)
    subprocess.run(["strip", "--strip-all", str(stripped)], check=True)
    subprocess.run(["objcopy", f"--add-gnu-debuglink={debug}", str(stripped)], check=True)
    return lib, stripped, debug


def offset_of(lib: Path, name: str) -> int:
    handle, parsed = elf._open(lib)
    with handle:
        return next(s["st_value"] for s in parsed.get_section_by_name(".symtab").iter_symbols() if s.name == name)


def test_symbolize_with_debug_info(demo_lib):
    lib, _, _ = demo_lib
    leaf, middle = offset_of(lib, "leaf"), offset_of(lib, "middle")
    text = (f"#1  0x{leaf + 8:x} in ?? () from {lib}\n"
            f"{lib}(+0x{middle + 4:x}) [0x7f00deadbeef]\n"
            f"#3  0x7f0012345678 in ?? () from {lib}\n")
    first, second, third = elf.symbolize(text)
    assert first.function == "leaf" and first.source == "demo.c:2"
    assert second.function == "middle" and second.source.startswith("demo.c:")
    assert "give the load base" in third.note
    (resolved,) = elf.symbolize(f"#3  0x7f0012345678 in ?? () from {lib}\n",
                                bases={"libdemo.so": 0x7f0012345678 - leaf - 8})
    assert resolved.function == "leaf"


def test_symbolize_a_stripped_library_through_its_debug_file(demo_lib, tmp_path):
    lib, stripped, debug = demo_lib
    facts = elf.inspect(stripped)
    assert not facts.debug_info and facts.build_id
    line = f"#1  0x{offset_of(lib, 'leaf') + 8:x} in ?? () from {stripped}\n"
    (missing,) = elf.symbolize(line, roots=(str(tmp_path / "nowhere"),))
    assert facts.build_id in missing.note and f"{facts.build_id[2:]}.debug" in missing.note
    assert "looked in" in missing.note and not missing.source
    root = tmp_path / "debug"
    target = root / ".build-id" / facts.build_id[:2] / f"{facts.build_id[2:]}.debug"
    target.parent.mkdir(parents=True)
    shutil.copy(debug, target)
    (found,) = elf.symbolize(line, roots=(str(root),))
    assert found.function == "leaf" and found.source == "demo.c:2" and str(target) in found.note


@pytest.fixture(scope="module")
def lab_install(lab_root):
    return Lab(root=lab_root)


@pytest.mark.lab
def test_lab_driver_and_render_server(lab_install):
    env = {**os.environ, "VENUSTUI_LAB_DIR": str(lab_install.root)}
    out = run_cli("inspect", "--icd", "virtio", "--json", env=env)
    assert out.returncode == 0, out.stderr
    (entry,) = [e for e in json.loads(out.stdout) if "the lab" in e["what"]]
    assert entry["mesa_version"].split(".")[0].isdigit()
    perf = [f["name"] for f in entry["flags"]["VN_PERF"]]
    assert "no_fence_feedback" in perf and "no_async_set_alloc" in perf and "init" not in perf
    assert [f["name"] for f in entry["flags"]["VN_DEBUG"]][:3] == ["init", "result", "vtest"]
    out = run_cli("inspect", "--render-server", "--json", env=env)
    (server,) = json.loads(out.stdout)
    assert [f["name"] for f in server["flags"]["VKR_DEBUG"]][0] == "validate"
    # The pair runs on its own glibc: inspect judges its glibc needs against that one, not the system's.
    assert any(f"lab pair's own glibc {lab_install.manifest['glibc']}" in n for n in server["notes"])
    assert not any("will refuse to load it" in n for n in server["notes"] + entry["notes"])
    stripped = elf.symbolize(f"{entry['library']}(+0x1234) [0x7f0000]")[0]
    assert entry["build_id"] in stripped.note and "/usr/lib/debug/.build-id/" in stripped.note


def test_icd_discovery_follows_the_loader(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "libfake_vk.so").write_bytes(b"\x7fELF")
    def manifest(name, library):
        path = tmp_path / name
        path.write_text(json.dumps({"file_format_version": "1.0.0", "ICD": {"library_path": library}}))
        return path
    a = manifest("a_icd.json", str(lib / "libfake_vk.so"))
    b = manifest("b_icd.json", "lib/libfake_vk.so")          # relative to the manifest
    c = manifest("c_icd.json", "libfake_vk.so")              # bare: the library search path
    env = {"VK_DRIVER_FILES": f"{a}:{b}", "VK_ICD_FILENAMES": str(c), "HOME": str(tmp_path)}
    found = loader.discover(env)
    assert [m.path for m in found] == [str(a), str(b)] and all(m.library for m in found)
    assert "VK_ICD_FILENAMES is set too and ignored" in found[0].notes[0]
    found = loader.discover({"VK_ICD_FILENAMES": str(c), "LD_LIBRARY_PATH": str(lib), "HOME": str(tmp_path),
                             "VK_ADD_DRIVER_FILES": str(a)})
    assert [m.path for m in found] == [str(a), str(c)] and found[1].library == str(lib / "libfake_vk.so")
    xdg = tmp_path / "xdg" / "vulkan" / "icd.d"
    xdg.mkdir(parents=True)
    shutil.copy(a, xdg / "x_icd.json")
    found = loader.discover({"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path),
                             "XDG_CONFIG_DIRS": str(tmp_path / "none"), "XDG_DATA_DIRS": str(tmp_path / "none")})
    assert [Path(m.path).name for m in found] == ["x_icd.json"]


def test_bad_manifests_and_binaries(tmp_path):
    missing = tmp_path / "m_icd.json"
    missing.write_text(json.dumps({"ICD": {"library_path": "/nonexistent/libvulkan_virtio.so"}}))
    broken = tmp_path / "broken_icd.json"
    broken.write_text("{not json")
    problems = {Path(m.path).name: m.problem for m in loader.discover({"VK_DRIVER_FILES": f"{missing}:{broken}",
                                                                        "HOME": str(tmp_path)})}
    assert "not found" in problems["m_icd.json"] and "not valid JSON" in problems["broken_icd.json"]
    out = run_cli("inspect", "--icd", "m", env={**os.environ, "VK_DRIVER_FILES": str(missing)})
    assert out.returncode == 1 and b"not found" in out.stdout

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    macho = tmp_path / "MoltenVK.dylib"
    macho.write_bytes(b"\xcf\xfa\xed\xfe" + b"\0" * 60)
    truncated = tmp_path / "truncated.so"
    truncated.write_bytes(Path("/bin/sh").resolve().read_bytes()[:200])
    for path, message in ((text, "not an ELF file"), (macho, "Mach-O"), (tmp_path, "is a directory"),
                          (truncated, "damaged or truncated")):
        out = run_cli("inspect", str(path))
        err = out.stderr.decode()
        assert out.returncode == 2 and message in err and err.count("\n") == 1, (path, err)


def _minimal_elf(bits: int, big: bool, machine: int) -> bytes:
    """An ELF header with no sections or segments: valid, tiny, of any class and byte order."""
    order = ">" if big else "<"
    ident = b"\x7fELF" + bytes([1 if bits == 32 else 2, 2 if big else 1, 1, 0]) + b"\0" * 8
    if bits == 32:
        header = struct.pack(order + "HHIIIIIHHHHHH", 3, machine, 1, 0, 0, 0, 0, 52, 0, 0, 40, 0, 0)
    else:
        header = struct.pack(order + "HHIQQQIHHHHHH", 3, machine, 1, 0, 0, 0, 0, 64, 0, 0, 64, 0, 0)
    return ident + header


def test_32_bit_and_big_endian_elf(tmp_path):
    small = tmp_path / "lib32.so"
    small.write_bytes(_minimal_elf(32, False, 3))
    big = tmp_path / "libppc.so"
    big.write_bytes(_minimal_elf(64, True, 21))
    facts32, facts_big = elf.inspect(small), elf.inspect(big)
    assert (facts32.bits, facts32.arch, facts32.endian) == (32, "386", "little")
    assert (facts_big.bits, facts_big.endian) == (64, "big") and facts_big.arch == "PPC64"
    assert facts32.flags == {} and not facts32.build_id


OPTION_TABLE_SOURCE = """\
/* Synthetic: an option table shaped like Mesa's debug_named_value arrays (name, flag, description). */
#include <stdint.h>
struct named { const char *name; uint64_t flag; const char *desc; };
static const struct named vn_perf_options[] = {
    {"no_async_set_alloc", 1ull << 0, "Disable async descriptor set allocation"},
    {"no_fence_feedback", 1ull << 4, "Disable fence feedback"},
    {"no_cmd_batching", 1ull << 6, "Disable command batching"},
    {0, 0, 0},
};
uint64_t lookup(const char *s) {
    for (const struct named *o = vn_perf_options; o->name; o++)
        if (o->name == s)
            return o->flag;
    return 0;
}
"""


@pytest.mark.parametrize("packed", [False, True], ids=["rela", "relr"])
def test_option_tables_read_from_rela_and_relr_builds(tmp_path, packed):
    """The same table built twice by gcc: with RELA's explicit addends, and packed into RELR (Fedora's and
    Arch's Mesa builds link with -z pack-relative-relocs; the pointers' addends are then in the data)."""
    if shutil.which("gcc") is None:
        pytest.fail("gcc is a system dependency of make test (scripts/system-deps.sh)")
    source = tmp_path / "options.c"
    source.write_text(OPTION_TABLE_SOURCE)
    library = tmp_path / "liboptions.so"
    link = ["-Wl,-z,pack-relative-relocs"] if packed else ["-Wl,-z,nopack-relative-relocs"]
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", *link, "-o", str(library), str(source)], check=True)
    dynamic = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True).stdout
    assert ("(RELR)" in dynamic) == packed
    facts = elf.inspect(library)
    assert facts.flags["VN_PERF"] == [("no_async_set_alloc", 1), ("no_fence_feedback", 16), ("no_cmd_batching", 64)]
    assert not facts.problems
