"""The driver in use, for a screen: the ELF facts of the lab's Venus driver and render server, and the
flag names a picker offers (the loaded driver's own where its tables can be read, else the catalogue)."""

from __future__ import annotations

from pathlib import Path

from venustui.errors import UserError
from venustui.loader import read_manifest
from venustui.parse.venus_flags import CATALOGUE

# venustui.elf (pyelftools, ~90 ms to import) is imported where a driver is inspected, not at start-up:
# the TUI's first paint waited for it.

VKR_DEBUG_NAMES = ["validate", "udmabuf", "gbm", "all"]


def lab_venus_driver(lab) -> str:
    """The Venus driver library the lab's ICD manifest names."""
    return read_manifest(Path(lab.manifest["virtio_icd"]), "the lab").library


def flag_table(library: str, variable: str) -> dict[str, int]:
    """Name → bit value of a flag variable (VN_PERF...) in a driver's own option table; {} if it cannot be read."""
    from venustui.elf import inspect

    return dict(inspect(library).flags.get(variable, []))


def flag_names(library: str, variable: str) -> list[str]:
    return list(flag_table(library, variable))


def lab_driver_facts(lab) -> list[dict]:
    """ELF facts of the lab's Venus driver and render server ([] without an installed lab)."""
    if lab is None or not lab.installed():
        return []
    from venustui.elf import inspect

    out = []
    manifest = lab.manifest
    driver = lab_venus_driver(lab)
    for label, path in (("Venus driver (the lab)", driver), ("render server (the lab)", manifest["render_server"])):
        try:
            out.append({"what": label, "library": path, **inspect(path).as_dict()})
        except UserError as exc:
            out.append({"what": label, "library": path, "problem": str(exc)})
    return out


def known_flags(facts: list[dict]) -> dict[str, list[str]]:
    """Flag names per variable: the catalogue's current names, replaced by a driver's own where its facts have them."""
    names = {v: [f.name for f in CATALOGUE if f.variable == v and not f.renamed_to] for v in ("VN_PERF", "VN_DEBUG")}
    names["VKR_DEBUG"] = list(VKR_DEBUG_NAMES)
    for entry in facts:
        for variable, flags in entry.get("flags", {}).items():
            names[variable] = [f["name"] for f in flags]
    return names
