"""Flags a Venus debugger toggles, and the environments built from them.

Guest: VN_PERF and VN_DEBUG (names and bits by Mesa version in parse.venus_flags),
plus MESA_LOG_LEVEL=debug whenever VN_DEBUG is set (newer Mesa hides Venus debug
lines without it). Host: VKR_DEBUG for the render server, MVK_CONFIG_* for MoltenVK.
Loader: exactly one of VK_DRIVER_FILES / VK_ICD_FILENAMES, because the loader
prefers the first and a stale one in the user's shell silently wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from venustui.parse import venus_flags
from venustui.parse.venus_flags import FEEDBACK_FLAGS, Version

VKR_DEBUG_NAMES = ("validate", "udmabuf", "gbm", "all")
LOG_LEVEL_FILTERS: Version = (26, 1)  # Mesa filters Venus's debug lines by MESA_LOG_LEVEL from here on
MVK_SETTINGS = {
    "MVK_CONFIG_LOG_LEVEL": ("0", "1", "2", "3", "4"),  # none, error, +warn, +info (default), +debug
    "MVK_CONFIG_TRACE_VULKAN_CALLS": ("0", "1", "2", "3", "4", "5", "6"),
    "MVK_CONFIG_DEBUG": ("0", "1"),
}


@dataclass(frozen=True)
class FlagSet:
    """What a run asks for: guest VN_PERF/VN_DEBUG names, host VKR_DEBUG names, MoltenVK settings."""

    perf: tuple[str, ...] = ()
    debug: tuple[str, ...] = ()
    vkr_debug: tuple[str, ...] = ()
    mvk: tuple[tuple[str, str], ...] = ()

    def with_perf(self, *names: str) -> "FlagSet":
        return FlagSet(tuple(dict.fromkeys(self.perf + names)), self.debug, self.vkr_debug, self.mvk)

    def toggled(self, variable: str, name: str) -> "FlagSet":
        """The same set with one name switched on or off."""
        attr = {"VN_PERF": "perf", "VN_DEBUG": "debug", "VKR_DEBUG": "vkr_debug"}[variable]
        names = getattr(self, attr)
        names = tuple(n for n in names if n != name) if name in names else names + (name,)
        return FlagSet(**{**self.__dict__, attr: names})

    @property
    def vn_perf(self) -> str:
        """VN_PERF as a user would type it."""
        return ",".join(self.perf)

    @property
    def vn_debug(self) -> str:
        return ",".join(self.debug)

    def describe(self) -> str:
        parts = []
        if self.perf:
            parts.append(f"VN_PERF={self.vn_perf}")
        if self.debug:
            parts.append(f"VN_DEBUG={self.vn_debug}")
        if self.vkr_debug:
            parts.append(f"VKR_DEBUG={','.join(self.vkr_debug)}")
        parts += [f"{k}={v}" for k, v in self.mvk]
        return " ".join(parts) or "defaults"


@dataclass
class EnvDelta:
    """The changes a run applies to the inherited environment, and why (recorded with every run)."""

    set: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def apply(self, base: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in base.items() if k not in self.removed}
        env.update(self.set)
        return env

    def as_dict(self) -> dict:
        return {"set": dict(self.set), "removed": list(self.removed), "notes": list(self.notes)}


def guest_env(flags: FlagSet, base: Mapping[str, str], *, driver_files: str | None = None,
              mesa: Version | None = None) -> EnvDelta:
    """The guest side's environment for these flags (and, optionally, the ICD manifest to use).

    VN_DEBUG names add to those the base already has. A MESA_LOG_LEVEL the base sets is the user's
    and kept; otherwise it is raised to debug whenever VN_DEBUG is set (``mesa``, the driver's version
    when known, only changes what the note says)."""
    delta = EnvDelta()
    if flags.perf:
        delta.set["VN_PERF"] = flags.vn_perf
    elif "VN_PERF" in base:
        delta.removed.append("VN_PERF")
        delta.notes.append("removed VN_PERF inherited from the shell: the run asks for the defaults")
    debug = [n for n in base.get("VN_DEBUG", "").split(",") if n]
    debug = list(dict.fromkeys(debug + list(flags.debug)))
    if debug:  # recorded with the run even when inherited: findings read what the run had
        delta.set["VN_DEBUG"] = ",".join(debug)
    if debug and "MESA_LOG_LEVEL" not in base:
        delta.set["MESA_LOG_LEVEL"] = "debug"
        needed = mesa is None or mesa >= LOG_LEVEL_FILTERS
        delta.notes.append("MESA_LOG_LEVEL=debug: " + (
            "Mesa 26.1 and newer print no MESA-VIRTIO line below it" if needed
            else f"harmless on Mesa {mesa[0]}.{mesa[1]}, which prints Venus lines without it"))
    for key, value in flags.mvk:
        delta.set[key] = value
    loader_choice(delta, base, driver_files)
    return delta


def host_env(flags: FlagSet, base: Mapping[str, str], *, driver_files: str | None = None) -> EnvDelta:
    delta = EnvDelta()
    if flags.vkr_debug:
        delta.set["VKR_DEBUG"] = ",".join(flags.vkr_debug)
    for key, value in flags.mvk:
        delta.set[key] = value
    loader_choice(delta, base, driver_files)
    return delta


def loader_choice(delta: EnvDelta, base: Mapping[str, str], driver_files: str | None) -> None:
    """Leave exactly one of VK_DRIVER_FILES / VK_ICD_FILENAMES, and say which."""
    if driver_files is not None:
        delta.set["VK_DRIVER_FILES"] = driver_files
        if "VK_ICD_FILENAMES" in base:
            delta.removed.append("VK_ICD_FILENAMES")
            delta.notes.append("removed VK_ICD_FILENAMES: VK_DRIVER_FILES names the driver for this run")
        return
    if "VK_DRIVER_FILES" in base and "VK_ICD_FILENAMES" in base:
        delta.removed.append("VK_ICD_FILENAMES")
        delta.notes.append("both VK_DRIVER_FILES and VK_ICD_FILENAMES were set; the loader uses "
                           "VK_DRIVER_FILES, so VK_ICD_FILENAMES was removed to make that visible")


@dataclass(frozen=True)
class FlagCheck:
    name: str
    variable: str
    problem: str  # "" when the name can have effect


def check_names(variable: str, names: Iterable[str], version: Version | None,
                known: Iterable[str] | None = None) -> list[FlagCheck]:
    """Names the driver would ignore, and why: unknown to it, gone in its Mesa, renamed."""
    if known is not None:
        known = set(known)
    catalogue = {f.name: f for f in venus_flags.CATALOGUE if f.variable == variable}
    out = []
    for name in names:
        flag = catalogue.get(name)
        problem = ""
        if known is not None and name not in known:
            problem = "the loaded driver does not know this name (it ignores unknown names silently)"
        elif flag is None:
            problem = "no Mesa release knows this name (Mesa ignores unknown names silently)"
        elif version is not None and not flag.present_in(version):
            if flag.until is not None and version >= flag.until:
                problem = f"gone in Mesa {flag.until[0]}.{flag.until[1]}"
                if flag.renamed_to:
                    problem += f" (renamed {flag.renamed_to})"
                if name == "no_fence_feedback":
                    problem += ": fences are guest-side renderer syncs there, with no feedback to turn off"
            else:
                problem = f"added in Mesa {flag.since[0]}.{flag.since[1]}"
        out.append(FlagCheck(name, variable, problem))
    return out


def took_effect(requested: Iterable[str], perf_mask: int | None, version: Version | None = None,
                values: Mapping[str, int] | None = None) -> dict[str, bool | None]:
    """For each requested VN_PERF name: did the guest's ``perf = 0x…`` line show its bit? None if unknown.
    ``values`` is the loaded driver's own table (name → flag value); else the catalogue's bits."""
    out: dict[str, bool | None] = {}
    if values is None:
        values = {f.name: 1 << f.bit for f in venus_flags.CATALOGUE if f.variable == "VN_PERF" and f.bit is not None}
    for name in requested:
        value = values.get(name)
        out[name] = None if perf_mask is None or value is None else bool(perf_mask & value)
    return out


def candidates(version: Version | None = None) -> list[str]:
    """VN_PERF names triage tries, feedback flags first."""
    if version is None:  # every name some release knows, the newer spelling of a renamed one
        names = list(dict.fromkeys(f.name for f in venus_flags.CATALOGUE
                                   if f.variable == "VN_PERF" and not f.renamed_to))
    else:
        names = [f.name for f in venus_flags.flags_for("VN_PERF", version)]
    first = [n for n in FEEDBACK_FLAGS if n in names]
    return first + [n for n in names if n not in first]
