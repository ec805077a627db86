"""The lab: a real Venus-over-vtest stack on this machine (VENUS_LAB.md).

Guest: Mesa's Venus ICD in any Vulkan process, talking over a UNIX socket. Host:
virglrenderer's ``virgl_test_server --venus`` forking its render server, which runs
lavapipe. On Debian 13 the parts are Debian packages; on Debian 12 (or when asked)
they are downloaded with a private apt configuration into a private prefix, and
trixie's virglrenderer is made to load on glibc 2.36. The system's apt sources are
never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from venustui import elf, paths
from venustui.errors import UserError
from venustui.sources.stream import CommandSource, kill_group, process_alive

ARCH = "x86_64-linux-gnu"
SOCKET_MAX = 107  # sun_path holds 108 bytes with the terminating NUL
# The versions that last worked; a newer mirror is used and recorded, with a warning.
KNOWN_GOOD = {
    "virgl-server": "1.1.0-2",
    "libvirglrenderer1": "1.1.0-2",
    "mesa-vulkan-drivers": "25.0.7-2~bpo12+1",
    "libdrm2": "2.4.123-1~bpo12+1",
    "libdrm-amdgpu1": "2.4.123-1~bpo12+1",
    "libdrm-common": "2.4.123-1~bpo12+1",
}
C23_SYMBOLS = ("__isoc23_sscanf", "__isoc23_strtol", "__isoc23_strtoll", "__isoc23_strtoul", "__isoc23_strtoull")
COMPAT_SOURCE = """\
/* venustui lab: the C23 entry points glibc 2.38 added, for trixie's virglrenderer on glibc 2.36. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
int __isoc23_sscanf(const char *s, const char *f, ...) {
    va_list a; va_start(a, f); int r = vsscanf(s, f, a); va_end(a); return r;
}
long __isoc23_strtol(const char *s, char **e, int b) { return strtol(s, e, b); }
long long __isoc23_strtoll(const char *s, char **e, int b) { return strtoll(s, e, b); }
unsigned long __isoc23_strtoul(const char *s, char **e, int b) { return strtoul(s, e, b); }
unsigned long long __isoc23_strtoull(const char *s, char **e, int b) { return strtoull(s, e, b); }
"""
COMPAT_LIB = "libvenustui-c23compat.so"


def debian_version() -> int:
    try:
        return int(Path("/etc/debian_version").read_text().split(".")[0])
    except (OSError, ValueError):
        return 0


def default_root() -> Path:
    env = os.environ.get("VENUSTUI_LAB_DIR")
    if env:
        return Path(env)
    return paths.cache_dir() / "lab"


def default_runtime(name: str) -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR")
    root = Path(base) / "venustui" if base and os.access(base, os.W_OK) else Path(f"/tmp/venustui-{os.getuid()}")
    return root / f"lab-{name}"


@dataclass
class Check:
    part: str
    ok: bool
    detail: str
    fix: str = ""


class Lab:
    def __init__(self, name: str = "default", root: Path | None = None, runtime: Path | None = None):
        self.name = name
        self.root = root or default_root()
        self.runtime = runtime or default_runtime(name)
        self.manifest_path = self.root / "lab.json"
        self.server: subprocess.Popen | None = None
        self.source: CommandSource | None = None

    # install ---------------------------------------------------------------------
    @property
    def manifest(self) -> dict:
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, ValueError):
            return {}

    def versions(self) -> dict[str, str]:
        """The upstream versions of the lab's virglrenderer and Mesa (from the packages it installed)."""
        packages = self.manifest.get("packages", {})
        out = {}
        for component, package in (("virglrenderer", "libvirglrenderer1"), ("mesa", "mesa-vulkan-drivers")):
            version = packages.get(package, {}).get("version", "")
            if version:
                out[component] = version.split("-")[0].split("+")[0].split("~")[0]
        return out

    def installed(self) -> bool:
        m = self.manifest
        return bool(m) and all(Path(m[k]).exists() for k in ("server", "render_server", "virtio_icd", "host_icd"))

    def install(self, *, private: bool | None = None, force: bool = False, progress: Callable[[str], None] = print) -> dict:
        if self.installed() and not force:
            progress(f"lab already installed in {self.root} ({self.manifest.get('mode')}); --force reinstalls")
            return self.manifest
        version = debian_version()
        if version == 0:
            raise UserError("the lab installs on Debian 12 or 13 only (no /etc/debian_version here)")
        private = version < 13 if private is None else private
        self.root.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        manifest = self._install_private(version, progress) if private else self._install_system(progress)
        manifest["installed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        manifest["seconds"] = round(time.monotonic() - started, 1)
        self.manifest_path.write_text(json.dumps(manifest, indent=1))
        progress(f"lab installed in {manifest['seconds']} s ({manifest['mode']}): {self.root}")
        return manifest

    def _apt_install(self, packages: list[str], progress) -> None:
        missing = [p for p in packages if _dpkg_status(p) != "install ok installed"]
        if not missing:
            return
        progress(f"apt-get install {' '.join(missing)}")
        if os.geteuid() != 0:
            raise UserError(f"the lab needs these Debian packages: {' '.join(missing)} (run: sudo apt-get install "
                            f"{' '.join(missing)}, then venustui lab install again)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        _run(["apt-get", "update", "-qq"], env=env)
        _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)

    def _install_system(self, progress) -> dict:
        self._apt_install(["virgl-server", "mesa-vulkan-drivers", "libvulkan1", "vulkan-validationlayers"], progress)
        icd_dir = self.root / "icd"
        icd_dir.mkdir(parents=True, exist_ok=True)
        lib = Path("/usr/lib") / ARCH
        return {
            "mode": "system", "debian": debian_version(),
            "packages": {p: {"version": _dpkg_version(p), "source": "system"} for p in
                         ("virgl-server", "libvirglrenderer1", "mesa-vulkan-drivers")},
            "server": shutil.which("virgl_test_server") or "/usr/bin/virgl_test_server",
            "render_server": "/usr/libexec/virgl_render_server",
            "lib_dir": "",
            "virtio_icd": str(_absolute_icd(Path("/usr/share/vulkan/icd.d/virtio_icd.json"), lib, icd_dir / "virtio.json")),
            "host_icd": str(_absolute_icd(_first(Path("/usr/share/vulkan/icd.d"), "lvp_icd"), lib, icd_dir / "lvp.json")),
            "compat": False,
        }

    def _install_private(self, version: int, progress) -> dict:
        llvm = "libllvm15" if version == 12 else "libllvm19"
        self._apt_install(["libvulkan1", "libepoxy0", "libva2", "libva-drm2", "libgbm1", "patchelf", "gcc",
                           "libc6-dev", "vulkan-validationlayers", llvm, "libwayland-client0", "libx11-xcb1",
                           "libxcb-dri3-0", "libxcb-present0", "libxcb-randr0", "libxcb-shm0", "libxcb-sync1",
                           "libxcb-xfixes0", "libxshmfence1", "libelf1", "libzstd1"], progress)
        apt = self.root / "apt"
        for sub in ("etc", "lists/partial", "cache/archives/partial"):
            (apt / sub).mkdir(parents=True, exist_ok=True)
        key = "/usr/share/keyrings/debian-archive-keyring.gpg"
        suites = ["trixie"] + (["bookworm-backports"] if version == 12 else [])
        (apt / "etc" / "sources.list").write_text("".join(
            f"deb [signed-by={key}] http://deb.debian.org/debian {suite} main\n" for suite in suites))
        options = [f"-o=Dir::Etc::SourceList={apt}/etc/sources.list", "-o=Dir::Etc::SourceParts=/dev/null",
                   f"-o=Dir::State::Lists={apt}/lists", f"-o=Dir::Cache={apt}/cache", "-o=Debug::NoLocking=1",
                   "-o=APT::Sandbox::User=root"]
        progress(f"private apt: {', '.join(suites)} (the system's sources are not touched)")
        _run(["apt-get", *options, "update", "-qq"])
        wanted = {"virgl-server": "trixie", "libvirglrenderer1": "trixie"}
        if version == 12:
            wanted.update({"mesa-vulkan-drivers": "bookworm-backports", "libdrm2": "bookworm-backports",
                           "libdrm-amdgpu1": "bookworm-backports", "libdrm-common": "bookworm-backports"})
        else:
            wanted["mesa-vulkan-drivers"] = "trixie"
        debs = self.root / "debs"
        if debs.exists():
            shutil.rmtree(debs)
        debs.mkdir()
        packages = {}
        for name, suite in wanted.items():
            candidate = _candidate(options, name, suite)
            if KNOWN_GOOD.get(name) and candidate != KNOWN_GOOD[name] and version == 12:
                progress(f"warning: {name} is {candidate} on the mirror; the last version known to work is "
                         f"{KNOWN_GOOD[name]}")
            progress(f"download {name} {candidate} ({suite})")
            _run(["apt-get", *options, "download", f"{name}={candidate}"], cwd=debs)
            deb = next(debs.glob(f"{name}_*.deb"))
            packages[name] = {"version": candidate, "suite": suite, "file": deb.name,
                              "sha256": hashlib.sha256(deb.read_bytes()).hexdigest()}
        prefix = self.root / "prefix"
        if prefix.exists():
            shutil.rmtree(prefix)
        for deb in sorted(debs.glob("*.deb")):
            _run(["dpkg", "-x", str(deb), str(prefix)])
        lib = prefix / "usr" / "lib" / ARCH
        server = prefix / "usr" / "bin" / "virgl_test_server"
        render_server = prefix / "usr" / "libexec" / "virgl_render_server"
        compat = self._make_loadable(lib, [render_server, *sorted(lib.glob("libvirglrenderer.so.*.*"))], progress)
        icd_dir = self.root / "icd"
        icd_dir.mkdir(exist_ok=True)
        icds = prefix / "usr" / "share" / "vulkan" / "icd.d"
        return {
            "mode": "private", "debian": version, "packages": packages,
            "server": str(server), "render_server": str(render_server), "lib_dir": str(lib),
            "virtio_icd": str(_absolute_icd(icds / "virtio_icd.json", lib, icd_dir / "virtio.json")),
            "host_icd": str(_absolute_icd(_first(icds, "lvp_icd"), lib, icd_dir / "lvp.json")),
            "compat": compat,
        }

    def _make_loadable(self, lib: Path, binaries: list[Path], progress) -> bool:
        """On glibc < 2.38: supply the C23 symbols and make the GLIBC_2.38 need weak (VENUS_LAB.md)."""
        glibc = tuple(int(x) for x in platform.libc_ver()[1].split(".")[:2] if x.isdigit())
        needing = [b for b in binaries if elf.symbols_with_version(b, "GLIBC_2.38")]
        if not needing or glibc >= (2, 38):
            return False
        progress(f"glibc {'.'.join(map(str, glibc))}: building {COMPAT_LIB} and marking GLIBC_2.38 weak in "
                 f"{', '.join(b.name for b in needing)}")
        source = lib / "venustui-c23compat.c"
        source.write_text(COMPAT_SOURCE)
        _run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(lib / COMPAT_LIB), str(source)])
        for binary in needing:
            extra = sorted(set(elf.symbols_with_version(binary, "GLIBC_2.38")) - set(C23_SYMBOLS))
            if extra:
                raise UserError(f"{binary} needs GLIBC_2.38 for {', '.join(extra)} too: the lab's compatibility "
                                "library covers only the C23 functions; use Debian 13")
            _run(["patchelf", "--add-needed", COMPAT_LIB, str(binary)])
            for symbol in C23_SYMBOLS:
                _run(["patchelf", "--clear-symbol-version", symbol, str(binary)])
            elf.mark_version_weak(binary, "GLIBC_2.38")
        return True

    # running ---------------------------------------------------------------------
    @property
    def socket_path(self) -> Path:
        return self.runtime / "venus.sock"

    @property
    def pid_path(self) -> Path:
        return self.runtime / "server.pid"

    def _require(self) -> dict:
        if not self.installed():
            raise UserError(f"the lab is not installed in {self.root} (run: venustui lab install)")
        return self.manifest

    def _lib_env(self, env: dict) -> dict:
        lib = self.manifest.get("lib_dir")
        if lib:
            env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        return env

    def guest_env(self, base: dict | None = None, debug: tuple[str, ...] = ("vtest", "init", "result")) -> dict:
        """What a guest process needs to reach this lab (the Venus ICD is chosen by the runner)."""
        env = dict(os.environ if base is None else base)
        env.update(VN_DEBUG=",".join(debug), MESA_LOG_LEVEL="debug", VTEST_SOCKET_NAME=str(self.socket_path))
        return self._lib_env(env)

    def server_command(self, *, host_icd: str | None = None, render_server: str | None = None,
                       vkr_debug: tuple[str, ...] = ()) -> tuple[list[str], dict]:
        m = self._require()
        server = m["server"]
        render_server = render_server or m["render_server"]
        for label, path in (("server", server), ("render server", render_server)):
            if not Path(path).is_file():
                raise UserError(f"lab {label} {path} is missing (run: venustui lab install --force)")
        if len(str(self.socket_path)) > SOCKET_MAX:
            raise UserError(f"socket path {self.socket_path} is {len(str(self.socket_path))} bytes, over the "
                            f"{SOCKET_MAX} a UNIX socket allows (set XDG_RUNTIME_DIR to a shorter folder)")
        env = dict(os.environ)
        env.pop("VK_ICD_FILENAMES", None)
        env.update(VK_DRIVER_FILES=host_icd or m["host_icd"], RENDER_SERVER_EXEC_PATH=render_server)
        if vkr_debug:
            env["VKR_DEBUG"] = ",".join(vkr_debug)
        else:
            env.pop("VKR_DEBUG", None)
        return [server, "--venus", "--no-virgl", f"--socket-path={self.socket_path}"], self._lib_env(env)

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text())
        except (OSError, ValueError):
            return None
        return pid if process_alive(pid) else None

    def _prepare_runtime(self) -> None:
        try:
            self.runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise UserError(f"cannot create the lab's runtime folder {self.runtime}: {exc.strerror} "
                            "(set XDG_RUNTIME_DIR to a writable folder)") from None
        if not os.access(self.runtime, os.W_OK):
            raise UserError(f"the lab's runtime folder {self.runtime} is not writable (set XDG_RUNTIME_DIR)")
        pid = self.running_pid()
        if pid is not None:
            raise UserError(f"lab '{self.name}' is already running (pid {pid}, socket {self.socket_path}); "
                            "venustui lab down stops it")
        self.clean_stale()
        if self.socket_path.exists():
            if _socket_in_use(self.socket_path):
                raise UserError(f"{self.socket_path} is in use by another server (stop it, or use another lab name)")
            self.socket_path.unlink()

    def clean_stale(self) -> list[str]:
        """Files a crashed session left: a pid file of a dead server, a socket nobody listens on."""
        cleaned = []
        if self.pid_path.exists() and self.running_pid() is None:
            self.pid_path.unlink()
            cleaned.append(str(self.pid_path))
        if self.socket_path.exists() and self.running_pid() is None and not _socket_in_use(self.socket_path):
            self.socket_path.unlink()
            cleaned.append(str(self.socket_path))
        return cleaned

    def start(self, sink=None, *, vkr_debug: tuple[str, ...] = (), host_icd: str | None = None,
              render_server: str | None = None, timeout: float = 10.0) -> float:
        """Start the server; its stdout and stderr go to sink as the 'host' source (or to files). Seconds to ready."""
        self._prepare_runtime()
        argv, env = self.server_command(host_icd=host_icd, render_server=render_server, vkr_debug=vkr_debug)
        started = time.monotonic()
        if sink is not None:
            self.source = CommandSource("host", argv, sink, env=env)
            self.source.start()
            self.server = self.source.proc
        else:
            out = open(self.runtime / "host.stdout.log", "ab")
            err = open(self.runtime / "host.stderr.log", "ab")
            self.server = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                           start_new_session=True)
            out.close()
            err.close()
        self.pid_path.write_text(str(self.server.pid))
        while time.monotonic() - started < timeout:
            if self.server.poll() is not None:
                self.pid_path.unlink(missing_ok=True)
                raise UserError(f"the lab server exited at once (status {self.server.returncode}); see "
                                f"venustui lab doctor")
            if self.socket_path.exists():  # bound and listening (a test connection would show in its log)
                return time.monotonic() - started
            time.sleep(0.01)
        self.stop()
        raise UserError(f"the lab server did not open {self.socket_path} within {timeout:g} s")

    def restart(self, sink=None, **options) -> float:
        """Stop and start again with other options (VKR_DEBUG is read by the server at start)."""
        self.stop()
        return self.start(sink, **options)

    def health(self) -> str | None:
        """None while the server runs; why it stopped otherwise (for the runner: lost, not hung)."""
        if self.server is None or self.server.poll() is None:
            return None
        code = self.server.returncode
        name = signal.Signals(-code).name if code < 0 else f"status {code}"
        return f"the lab's render server stopped ({name})"

    def stop(self) -> str:
        how = "not running"
        if self.source is not None:
            self.source.stop()
            self.source.join(5)
            how = "stopped"
        elif self.server is not None:
            how = kill_group(self.server)
        else:
            pid = self.running_pid()
            if pid is not None:
                try:
                    os.killpg(pid, signal.SIGTERM)
                    deadline = time.monotonic() + 3
                    while time.monotonic() < deadline and self.running_pid() is not None:
                        time.sleep(0.05)
                    if self.running_pid() is not None:
                        os.killpg(pid, signal.SIGKILL)
                    how = "stopped"
                except ProcessLookupError:
                    how = "was already gone"
        self.pid_path.unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)
        self.server = None
        self.source = None
        return how

    # doctor ----------------------------------------------------------------------
    def doctor(self) -> list[Check]:
        import ctypes.util

        checks = [Check("loader", bool(ctypes.util.find_library("vulkan")), "libvulkan.so.1",
                        "apt-get install libvulkan1")]
        m = self.manifest
        if not m:
            checks.append(Check("install", False, f"nothing installed in {self.root}", "venustui lab install"))
            return checks
        checks.append(Check("install", True, f"{m.get('mode')} install, Debian {m.get('debian')}, "
                            + ", ".join(f"{k} {v.get('version')}" for k, v in m.get("packages", {}).items())))
        for key, label in (("virtio_icd", "Venus ICD"), ("host_icd", "host ICD (lavapipe)")):
            path = Path(m[key])
            ok = path.exists()
            library = ""
            if ok:
                library = json.loads(path.read_text())["ICD"]["library_path"]
                ok = Path(library).exists()
            checks.append(Check(label, ok, f"{path} → {library or 'missing'}", "venustui lab install --force"))
        for key, label in (("server", "server"), ("render_server", "render server")):
            path = Path(m[key])
            ok = path.is_file()
            detail = str(path)
            if ok:
                env = self._lib_env(dict(os.environ))
                probe = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env)
                missing = [line.split()[0] for line in probe.stdout.splitlines() if "=> not found" in line]
                refused = [line for line in (probe.stdout + probe.stderr).splitlines()
                           if "version `" in line and "weak version" not in line]
                ok = not missing and not refused
                if refused:
                    detail += f" ({refused[0].split(': ', 2)[-1]})"
                detail += f" (missing: {', '.join(missing)})" if missing else ""
            checks.append(Check(label, ok, detail, "venustui lab install --force"))
        pid = self.running_pid()
        stale = self.socket_path.exists() and pid is None and not _socket_in_use(self.socket_path)
        if stale:
            checks.append(Check("socket", False, f"{self.socket_path} left by a crashed session",
                                "venustui lab down (removes it)"))
        else:
            checks.append(Check("socket", True, f"{self.socket_path}: " + (f"server pid {pid}" if pid else "not running")))
        return checks


def _absolute_icd(source: Path, lib: Path, target: Path) -> Path:
    """A copy of an ICD manifest whose library_path is absolute (the packages name bare file names)."""
    data = json.loads(source.read_text())
    name = Path(data["ICD"]["library_path"]).name
    data["ICD"]["library_path"] = str(lib / name)
    target.write_text(json.dumps(data, indent=1))
    return target


def _first(folder: Path, stem: str) -> Path:
    found = sorted(folder.glob(f"{stem}*.json"))
    if not found:
        raise UserError(f"no {stem}*.json in {folder}: the Mesa package did not unpack as expected")
    return found[0]


def _socket_in_use(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _dpkg_status(package: str) -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return out.stdout.strip()


def _dpkg_version(package: str) -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return out.stdout.strip()


def _candidate(options: list[str], name: str, suite: str) -> str:
    out = subprocess.run(["apt-cache", *options, "madison", name], capture_output=True, text=True)
    for line in out.stdout.splitlines():  # "name | version | http://… trixie/main amd64 Packages"
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 3 and len(parts[2].split()) > 1 and parts[2].split()[1].split("/")[0] == suite:
            return parts[1]
    raise UserError(f"{name} is not in {suite} on the mirror (apt-cache madison {name} shows none)")


def _run(argv: list[str], **kwargs) -> None:
    out = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if out.returncode != 0:
        last = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"{' '.join(argv[:3])} failed (status {out.returncode}): {last[0]}")

