"""What venustui says about a driver binary: which library is really loaded (an ICD as the Vulkan
loader finds it, the render server virglrenderer forks, or a path), its ELF facts, and notes that
reason about them: glibc versions this system cannot satisfy, VN_PERF names the driver ignores,
stripped symbols. ``venustui inspect`` prints these; the facts themselves come from venustui.elf."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path

from venustui import elf, loader
from venustui.lab import Lab
from venustui.parse.venus_flags import CATALOGUE


@dataclass(frozen=True)
class Driver:
    """One binary to inspect: how it is named in the output, its path, and its ICD manifest if any."""

    label: str
    library: str
    manifest: loader.Manifest | None = None
    glibc: str = ""  # the glibc it runs with, when not the system's (a lab pair's own)


def _lab_manifest() -> dict:
    lab = Lab()
    return lab.manifest if lab.installed() else {}


def icd_drivers(name: str) -> list[Driver]:
    """The ICD manifests named NAME as the loader finds them, the lab's among them when installed."""
    lab_manifest = _lab_manifest()
    origin = f"the lab, pair {lab_manifest.get('pair', '?')}"
    extra = [(Path(lab_manifest[k]), origin) for k in ("virtio_icd", "host_icd") if lab_manifest.get(k)]
    return [Driver(f"{m.path} ({m.origin})", m.library, m, lab_manifest.get("glibc", "") if m.origin == origin else "")
            for m in loader.pick(loader.discover(extra=extra), name)]


def render_server_driver() -> Driver:
    """The render server virglrenderer would fork, and why that one."""
    lab_manifest = _lab_manifest()
    path, why = loader.render_server(lab_manifest=lab_manifest)
    glibc = lab_manifest.get("glibc", "") if why == "the lab" else ""
    return Driver(f"render server ({why}{', pair ' + lab_manifest['pair'] if glibc else ''})", path, glibc=glibc)


def describe(drivers: list[Driver], system_glibc: str | None = None) -> list[dict]:
    """One entry per driver: its facts and notes, or the manifest's problem when it names no usable file."""
    system_glibc = platform.libc_ver()[1] if system_glibc is None else system_glibc
    results = []
    for driver in drivers:
        entry = {"what": driver.label, "library": driver.library}
        if driver.manifest is not None and driver.manifest.problem:
            entry["problem"] = driver.manifest.problem
            results.append(entry)
            continue
        start = time.perf_counter()
        facts = elf.inspect(driver.library)
        entry.update(facts.as_dict())
        entry["seconds"] = round(time.perf_counter() - start, 4)
        glibc = driver.glibc or system_glibc
        entry["notes"] = driver_notes(facts, glibc, own=bool(driver.glibc)) + (driver.manifest.notes if driver.manifest else [])
        results.append(entry)
    return results


def driver_notes(facts: elf.ElfFacts, glibc: str, *, own: bool = False) -> list[str]:
    """What the facts mean here: glibc needs the glibc it runs with can't meet (the system's, or with
    ``own`` a lab pair's), flag names, missing symbols."""
    notes = []
    have = tuple(int(x) for x in glibc.split(".")[:2] if x.isdigit())
    whose = f"its lab pair's own glibc {glibc}" if own else f"this system's glibc {glibc}"
    if own:
        notes.append(f"runs with {whose}, through that prefix's dynamic loader (venustui lab status shows how)")
    for need in facts.glibc_needs:
        version = need.split()[0]
        numbers = tuple(int(x) for x in version.removeprefix("GLIBC_").split(".")[:2] if x.isdigit())
        if have and numbers > have:
            if need.endswith("(weak)"):
                notes.append(f"needs {version}, newer than {whose}, marked weak")
            else:
                notes.append(f"needs {version} but {whose} is older: the dynamic loader will refuse to load it")
    if "VN_PERF" in facts.flags:
        known = {name for name, _ in facts.flags["VN_PERF"]}
        catalogue = {f.name for f in CATALOGUE if f.variable == "VN_PERF"}
        gone = sorted(catalogue - known)
        if "no_fence_feedback" not in known:
            notes.append("no_fence_feedback is not a name this driver knows (Mesa 26.2 removed fence feedback)")
        if gone:
            notes.append(f"VN_PERF names other Mesa versions know but this one ignores: {', '.join(gone)}")
    if not facts.debug_info and not facts.symtab:
        notes.append(f"stripped: debug file by build-id /usr/lib/debug/.build-id/{facts.build_id[:2]}/"
                     f"{facts.build_id[2:]}.debug" if facts.build_id else "stripped, and no build-id")
    return notes
