"""Installing the lab's Mesa × virglrenderer pairs, each into its own private prefix (VENUS_LAB.md,
"Newer packages on Debian 12").

A pair is named by two series ("26.2" Mesa, "1.3" virglrenderer). The newest version of each series that
Debian serves (trixie, trixie-backports or sid) is resolved with a private apt configuration, and apt
resolves the whole closure for an empty dpkg status, glibc included. The .debs are kept with their
checksums in one pool shared by the pairs (sid and backports move on: a cached pair installs again
offline), and unpacked with ``dpkg -x`` into the pair's prefix. Every program of a prefix runs through
the prefix's own dynamic loader (``Prefix.launcher``): one way for every pair and every Debian host.
The system's apt sources and dpkg database are never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from venustui.errors import UserError

ARCH = "x86_64-linux-gnu"
SUITES = ("trixie", "trixie-backports", "sid")  # oldest first: a pair's apt prefers the newest it needs
COMPONENTS = {  # component → the packages of one build, pinned to one version together
    # Mesa's EGL and DRI drivers too: QEMU's gl=on display renders with the pair's llvmpipe.
    "mesa": ("mesa-vulkan-drivers", "mesa-libgallium", "libgbm1", "libegl-mesa0", "libgl1-mesa-dri", "libglx-mesa0"),
    "virglrenderer": ("virgl-server", "libvirglrenderer1"),
}
# Also in every prefix: the loader, the validation layer (VKR_DEBUG=validate), what python3 and its
# extension modules load (a probe under the prefix's loader takes nothing from the host), and QEMU with
# its OpenGL display module and SDL for the QEMU lab (lab_qemu).
EXTRA_PACKAGES = ("libvulkan1", "vulkan-validationlayers", "zlib1g", "libexpat1", "libffi8", "libbz2-1.0", "liblzma5",
                  "libsdl2-2.0-0", "libegl1", "libgl1")
# QEMU as built against the pair's virglrenderer: from the suite that virglrenderer comes from (sid's QEMU
# needs virglrenderer 1.3), all its packages at one version.
QEMU_PACKAGES = ("qemu-system-x86", "qemu-system-modules-opengl", "qemu-system-common", "qemu-system-data")
# Of qemu-system-gui only its SDL display module is taken: the package depends on GTK and VTE, never installed.
GUI_PACKAGE, GUI_MODULES = "qemu-system-gui", ("ui-sdl.so",)
CLOSURE = (*COMPONENTS["mesa"], *EXTRA_PACKAGES, *QEMU_PACKAGES)  # recorded: a pair resolved otherwise is resolved again
DEFAULT_PAIR = ("25.0", "1.1")  # trixie's: Debian 13's own Mesa and virglrenderer
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
MIRROR = os.environ.get("VENUSTUI_DEBIAN_MIRROR", "http://deb.debian.org/debian")
_INST = re.compile(r"^Inst (\S+) \((\S+) .*\[(\w+)\]\)")


@dataclass(frozen=True, order=True)
class Pair:
    """A Mesa series and a virglrenderer series: ``25.0x1.1``."""

    mesa: str
    virglrenderer: str

    @property
    def id(self) -> str:
        return f"{self.mesa}x{self.virglrenderer}"

    def __str__(self) -> str:
        return f"Mesa {self.mesa} × virglrenderer {self.virglrenderer}"

    @classmethod
    def parse(cls, text: str) -> "Pair":
        parts = re.split(r"[x×]", text.strip().lower().replace("mesa", "").replace("virglrenderer", ""))
        if len(parts) != 2 or not all(series_key(p) for p in parts):
            raise UserError(f"lab pair {text!r} is not MESAxVIRGL (e.g. 25.0x1.1; venustui lab status lists "
                            "the installed ones)")
        return cls(*(p.strip() for p in parts))


def series_key(series: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in series.split("."))
    except ValueError:
        return ()


def upstream(version: str) -> str:
    """Debian version → upstream version: ``1:19.1.7-3+b1`` → ``19.1.7``."""
    return version.split(":", 1)[-1].split("-")[0].split("+")[0].split("~")[0]


def series_of(version: str) -> str:
    return ".".join(upstream(version).split(".")[:2])


@dataclass
class Prefix:
    """An unpacked pair: where its loader, libraries, programs and manifests are."""

    record: dict

    @property
    def root(self) -> Path:
        return Path(self.record["prefix"])

    @property
    def launcher(self) -> list[str]:
        """Run a program of this prefix: its own loader with its own libraries, never the host's."""
        return [self.record["loader"], "--library-path", self.record["library_path"]]


class PairInstaller:
    """Resolve, download (or reuse), check and unpack pairs under ``root``."""

    def __init__(self, root: Path, progress: Callable[[str], None] = print):
        self.root = root
        self.apt = root / "apt"
        self.pool = root / "debs"
        self.progress = progress

    # apt ----------------------------------------------------------------------------
    def options(self, suites: tuple[str, ...]) -> list[str]:
        listing = self.apt / "etc" / f"{'+'.join(suites)}.list"
        listing.write_text("".join(f"deb [signed-by={KEYRING}] {MIRROR} {s} main\n" for s in suites))
        return [f"-o=Dir::Etc::SourceList={listing}", "-o=Dir::Etc::SourceParts=/dev/null",
                f"-o=Dir::State::Lists={self.apt}/lists", f"-o=Dir::Cache={self.apt}/cache",
                f"-o=Dir::Cache::archives={self.pool}", f"-o=Dir::State::status={self.apt}/status",
                "-o=Dir::Etc::Preferences=/dev/null", "-o=Dir::Etc::PreferencesParts=/dev/null",
                f"-o=Dir::Log={self.apt}", "-o=Debug::NoLocking=1", "-o=APT::Sandbox::User=root",
                "-o=APT::Install-Recommends=false", "-o=Acquire::Retries=3"]

    def prepare_apt(self) -> None:
        for sub in ("etc", "lists/partial", "cache"):
            (self.apt / sub).mkdir(parents=True, exist_ok=True)
        (self.pool / "partial").mkdir(parents=True, exist_ok=True)
        (self.apt / "status").write_text("")  # empty: apt resolves a whole closure for the prefix

    def update(self) -> None:
        self.prepare_apt()
        self.progress(f"private apt: {', '.join(SUITES)} (the system's sources are not touched)")
        run_checked(["apt-get", *self.options(SUITES), "update", "-qq"], what="the private apt update")

    def served(self) -> dict[str, dict[str, tuple[str, str]]]:
        """component → series → (newest Debian version of that series, suite), as the mirror serves them."""
        options = self.options(SUITES)
        out: dict[str, dict[str, tuple[str, str]]] = {}
        for component, packages in COMPONENTS.items():
            found: dict[str, tuple[str, str]] = {}
            for version, suite in _madison(options, packages[0]):
                if suite not in SUITES:
                    continue
                series = series_of(version)
                best = found.get(series)
                if best is None or series_key(upstream(version)) > series_key(upstream(best[0])):
                    found[series] = (version, suite)
            out[component] = found
        return out

    # install --------------------------------------------------------------------------
    def install(self, pair: Pair, recorded: dict | None, served: dict | None) -> dict:
        """The pair's record: from its cached .debs when they are all there, else from the mirror."""
        started = time.monotonic()
        self.pool.mkdir(parents=True, exist_ok=True)
        if recorded and self.cached(recorded):
            self.progress(f"{pair}: unpacking {len(recorded['debs'])} cached .debs (checksums verified)")
            record = dict(recorded)
        else:
            if served is None:
                raise UserError(f"{pair}: its .debs are not cached and the mirror was not asked")
            record = self._download(pair, served)
        self._unpack(pair, record)
        record["seconds"] = round(time.monotonic() - started, 1)
        record["installed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        return record

    def cached(self, record: dict) -> bool:
        if record.get("extra_packages") != list(CLOSURE):  # an older closure: resolve it again
            return False
        for name, digest in record.get("debs", {}).items():
            path = self.pool / name
            if not path.is_file() or sha256_of(path) != digest:
                return False
        return bool(record.get("debs"))

    def _download(self, pair: Pair, served: dict) -> dict:
        chosen = {}
        for component, series in (("mesa", pair.mesa), ("virglrenderer", pair.virglrenderer)):
            offered = served.get(component, {})
            if series not in offered:
                raise UserError(_not_served(component, series, offered))
            chosen[component] = offered[series]
        suites = tuple(s for s in SUITES if s == "trixie" or s in {suite for _, suite in chosen.values()})
        options = [*self.options(suites), f"-o=APT::Default-Release={suites[-1]}"]
        wanted = [f"{package}={chosen[component][0]}" for component, packages in COMPONENTS.items()
                  for package in packages]
        wanted += list(EXTRA_PACKAGES)
        qemu_version = _version_in(options, QEMU_PACKAGES[0], chosen["virglrenderer"][1])
        wanted += [f"{package}={qemu_version}" for package in QEMU_PACKAGES]
        self.progress(f"{pair}: Mesa {chosen['mesa'][0]} ({chosen['mesa'][1]}), virglrenderer "
                      f"{chosen['virglrenderer'][0]} ({chosen['virglrenderer'][1]}); resolving the closure")
        plan = run_checked(["apt-get", *options, "-s", "install", *wanted], what=f"resolving {pair}")
        closure = [m.groups() for m in map(_INST.match, plan.splitlines()) if m]
        if not closure:
            raise UserError(f"apt resolved nothing for {pair} (run venustui lab install --force to refresh)")
        self.progress(f"{pair}: downloading {len(closure)} packages into {self.pool} (kept for reuse)")
        run_checked(["apt-get", *options, "--download-only", "-y", "-qq", "install", *wanted], what=f"downloading {pair}")
        qemu = next((version for name, version, _ in closure if name == "qemu-system-x86"), None)
        if qemu is not None:
            run_checked(["apt-get", *options, "download", f"{GUI_PACKAGE}={qemu}"], what=f"downloading {GUI_PACKAGE}",
                 cwd=self.pool)  # download writes into the current folder
            closure.append((GUI_PACKAGE, qemu, "amd64"))
        debs, packages = {}, {}
        for name, version, arch in closure:
            file = f"{name}_{version.replace(':', '%3a')}_{arch}.deb"
            if not (self.pool / file).is_file():
                raise UserError(f"apt did not leave {file} in {self.pool} (run venustui lab install again)")
            debs[file] = sha256_of(self.pool / file)
            packages[name] = {"version": version, "file": file}
        return {"pair": pair.id, "suites": list(suites), "debs": debs, "packages": packages,
                "extra_packages": list(CLOSURE),
                "versions": {c: upstream(v) for c, (v, _) in chosen.items()},
                "glibc": upstream(packages.get("libc6", {}).get("version", ""))}

    def _unpack(self, pair: Pair, record: dict) -> None:
        home = self.root / "pairs" / pair.id
        prefix = home / "prefix"
        if home.exists():
            shutil.rmtree(home)
        prefix.mkdir(parents=True)
        whole = [name for name in sorted(record["debs"]) if not name.startswith(GUI_PACKAGE + "_")]
        with ThreadPoolExecutor(4) as pool:  # list(): a failed unpack raises here
            list(pool.map(lambda name: run_checked(["dpkg", "-x", str(self.pool / name), str(prefix)],
                                            what=f"unpacking {name}"), whole))
        for name in set(record["debs"]) - set(whole):
            scratch = home / "gui"
            run_checked(["dpkg", "-x", str(self.pool / name), str(scratch)], what=f"unpacking {name}")
            for module in GUI_MODULES:
                for found in scratch.rglob(module):
                    shutil.copy(found, prefix / found.relative_to(scratch))
            shutil.rmtree(scratch)
        loader = next((p for p in (prefix / "usr/lib64/ld-linux-x86-64.so.2", prefix / "lib64/ld-linux-x86-64.so.2",
                                   prefix / "usr/lib" / ARCH / "ld-linux-x86-64.so.2") if p.exists()), None)
        if loader is None:
            raise UserError(f"{pair}: no ld-linux-x86-64.so.2 in {prefix} (libc6 did not unpack; "
                            f"venustui lab remove {pair.id}, then install again)")
        libs = [prefix / "usr/lib" / ARCH, prefix / "lib" / ARCH, *_private_library_dirs(prefix)]
        lib = libs[0]
        icds = prefix / "usr/share/vulkan/icd.d"
        icd_dir = home / "icd"
        icd_dir.mkdir()
        bin_dir = home / "bin"
        bin_dir.mkdir()
        library_path = ":".join(str(p) for p in libs)
        render_server = prefix / "usr/libexec/virgl_render_server"
        wrapper = bin_dir / "virgl_render_server"
        # virgl_test_server (or QEMU) execs RENDER_SERVER_EXEC_PATH: it must start under the prefix's loader too.
        wrapper.write_text("#!/bin/sh\n" + shlex.join(["exec", str(loader), "--library-path", library_path,
                                                      str(render_server)]) + ' "$@"\n')
        wrapper.chmod(0o755)
        record.update(
            prefix=str(prefix), loader=str(loader), library_path=library_path,
            server=str(prefix / "usr/bin/virgl_test_server"), render_server=str(render_server),
            render_server_exec=str(wrapper), layer_path=str(prefix / "usr/share/vulkan/explicit_layer.d"),
            virtio_icd=str(_absolute_icd(_first(icds, "virtio_icd"), lib, icd_dir / "virtio.json")),
            host_icd=str(_absolute_icd(_first(icds, "lvp_icd"), lib, icd_dir / "lvp.json")),
        )

    def remove(self, pair_id: str) -> int:
        """Delete a pair's prefix (its .debs stay in the pool for a later install). Bytes freed."""
        home = self.root / "pairs" / pair_id
        size = sum(p.stat().st_size for p in home.rglob("*") if p.is_file() and not p.is_symlink())
        shutil.rmtree(home, ignore_errors=True)
        return size


def _madison(options: list[str], package: str) -> list[tuple[str, str]]:
    """(version, suite) of each version the private apt knows of package."""
    listing = subprocess.run(["apt-cache", *options, "madison", package], capture_output=True, text=True)
    out = []
    for line in listing.stdout.splitlines():  # "name | version | http://… sid/main amd64 Packages"
        cells = [c.strip() for c in line.split("|")]
        if len(cells) >= 3 and len(cells[2].split()) > 1:
            out.append((cells[1], cells[2].split()[1].split("/")[0]))
    return out


def _version_in(options: list[str], package: str, suite: str) -> str:
    found = [version for version, where in _madison(options, package) if where == suite]
    if not found:
        raise UserError(f"the mirror's {suite} has no {package} (check the network, then lab install again)")
    return found[0]


def _private_library_dirs(prefix: Path) -> list[Path]:
    """Folders that libraries name in their RUNPATH (libpulse's pulseaudio/), moved into the prefix: a
    RUNPATH is absolute, so under --library-path it would point at the host's folder."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    found: set[Path] = set()
    for library in (prefix / "usr/lib" / ARCH).glob("lib*.so.*"):
        if library.is_symlink():
            continue
        try:
            with open(library, "rb") as handle:
                for section in ELFFile(handle).iter_sections():
                    if isinstance(section, DynamicSection):
                        for tag in section.iter_tags():
                            path = getattr(tag, "runpath", None) or getattr(tag, "rpath", None)
                            if path:
                                found |= {prefix / p.lstrip("/") for p in path.split(":") if p.startswith("/usr/lib/")}
        except (OSError, ELFError):
            continue
    return sorted(p for p in found if p.is_dir())


def _not_served(component: str, series: str, offered: dict) -> str:
    label = "Mesa" if component == "mesa" else "virglrenderer"
    if not offered:
        return f"the mirror serves no {label} in {', '.join(SUITES)} (check the network, then lab install again)"
    key = series_key(series) or (0,)
    nearest = min(offered, key=lambda s: (abs(_float(s) - _float(".".join(map(str, key)))), s))
    flag = "--mesa" if component == "mesa" else "--virglrenderer"
    return (f"{label} {series} is not served by {', '.join(SUITES)} any more (served: "
            f"{', '.join(sorted(offered, key=series_key))}); the nearest is {flag} {nearest}")


def _float(series: str) -> float:
    key = series_key(series) or (0,)
    return key[0] + (key[1] if len(key) > 1 else 0) / 100


def _absolute_icd(source: Path, lib: Path, target: Path) -> Path:
    """A copy of an ICD manifest whose library_path is absolute (the packages name bare file names)."""
    data = json.loads(source.read_text())
    data["ICD"]["library_path"] = str(lib / Path(data["ICD"]["library_path"]).name)
    target.write_text(json.dumps(data, indent=1))
    return target


def _first(folder: Path, stem: str) -> Path:
    found = sorted(folder.glob(f"{stem}*.json"))
    if not found:
        raise UserError(f"no {stem}*.json in {folder}: the Mesa package did not unpack as expected")
    return found[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_checked(argv: list[str], *, what: str, cwd: Path | None = None) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    if out.returncode != 0:
        last = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"{what} failed (status {out.returncode}): {last[0]}")
    return out.stdout
