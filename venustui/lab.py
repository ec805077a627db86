"""The lab: a real Venus-over-vtest stack on this machine (VENUS_LAB.md).

Guest: Mesa's Venus ICD in any Vulkan process, talking over a UNIX socket. Host:
virglrenderer's ``virgl_test_server --venus`` forking its render server, which runs
lavapipe. The parts come as Mesa × virglrenderer pairs (``lab_install``), each in a private
prefix whose programs run through the prefix's own dynamic loader; several pairs can be
installed side by side and one is chosen per lab. The system's apt sources are never touched.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from venustui import paths
from venustui.errors import UserError
from venustui.lab_install import DEFAULT_PAIR, EXTRA_PACKAGES, Pair, PairInstaller, Prefix, series_key
from venustui.sources.stream import CommandSource, kill_group, process_alive

SOCKET_MAX = 107  # sun_path holds 108 bytes with the terminating NUL
# Bookworm's implicit layers (and any the user has) would load host libraries into a prefix's process.
NO_IMPLICIT_LAYERS = "~implicit~"


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
    """One lab (a name, a runtime folder, a server) on one installed pair."""

    def __init__(self, name: str = "default", root: Path | None = None, runtime: Path | None = None,
                 pair: Pair | str | None = None):
        self.name = name
        self.root = root or default_root()
        self.runtime = runtime or default_runtime(name)
        self.catalog_path = self.root / "lab.json"
        self._pair = Pair.parse(pair) if isinstance(pair, str) else pair
        self.server: subprocess.Popen | None = None
        self.source: CommandSource | None = None

    # the installed pairs ---------------------------------------------------------------
    @property
    def catalog(self) -> dict:
        """lab.json: every installed pair's record (versions, .debs and checksums, paths)."""
        try:
            data = json.loads(self.catalog_path.read_text())
        except (OSError, ValueError):
            return {"pairs": {}}
        return data if isinstance(data.get("pairs"), dict) else {"pairs": {}}  # a pre-pairs lab.json: none

    def pairs(self) -> list[Pair]:
        return sorted(Pair.parse(key) for key in self.catalog["pairs"])

    @property
    def pair(self) -> Pair:
        """The pair asked for; else the lab that runs under this name; else trixie's; else the first recorded."""
        if self._pair is not None:
            return self._pair
        running = self._running_pair()
        if running is not None:
            return running
        recorded = self.pairs()  # an incomplete default is reported as such, never swapped for another pair
        default = Pair(*DEFAULT_PAIR)
        return default if default in recorded or not recorded else recorded[0]

    @property
    def manifest(self) -> dict:
        """The chosen pair's record ({} when it is not installed)."""
        return self.catalog["pairs"].get(self.pair.id, {})

    @property
    def prefix(self) -> Prefix:
        return Prefix(self._require())

    def versions(self) -> dict[str, str]:
        """Upstream versions of the pair: guest Mesa, host virglrenderer (and its render server), host driver."""
        record = self.manifest
        out = dict(record.get("versions", {}))
        if out.get("mesa"):
            out["host driver"] = f"lavapipe (Mesa {out['mesa']})"
        if record.get("glibc"):
            out["glibc"] = record["glibc"]
        return out

    def identity(self) -> dict:
        """What a session records about the lab it ran on (a "lab" action): findings and reports name it."""
        return {"pair": self.pair.id, "vmm": "vtest", "versions": self.versions(), "describe": self.describe()}

    def describe(self) -> str:
        v = self.versions()
        return (f"{self.pair.id}: Mesa {v.get('mesa', '?')} (guest Venus and host lavapipe), "
                f"virglrenderer {v.get('virglrenderer', '?')}, glibc {v.get('glibc', '?')} (the prefix's own)")

    @staticmethod
    def _complete(record: dict) -> bool:
        keys = ("loader", "server", "render_server", "render_server_exec", "virtio_icd", "host_icd")
        return (bool(record) and record.get("extra_packages") == list(EXTRA_PACKAGES)
                and all(record.get(k) and Path(record[k]).exists() for k in keys))

    def installed(self) -> bool:
        return self._complete(self.manifest)

    def install(self, pairs: list[Pair] | None = None, *, all_served: bool = False, force: bool = False,
                progress: Callable[[str], None] = print) -> list[dict]:
        """Install pairs (default: trixie's), each from its cached .debs when they are all there."""
        self.root.mkdir(parents=True, exist_ok=True)
        installer = PairInstaller(self.root, progress)
        catalog = self.catalog
        wanted = list(pairs or [])
        served = None
        if all_served:
            installer.update()
            served = installer.served()
            wanted = sorted({Pair(m, v) for m in served["mesa"] for v in served["virglrenderer"]} | set(wanted))
        wanted = wanted or [self._pair or Pair(*DEFAULT_PAIR)]
        records = []
        for pair in wanted:
            record = catalog["pairs"].get(pair.id)
            if record and self._complete(record) and not force:
                progress(f"{pair} already installed ({record['versions']['mesa']} × "
                         f"{record['versions']['virglrenderer']}); --force reinstalls")
                records.append(record)
                continue
            if served is None and not (record and installer._cached(record)):
                installer.update()
                served = installer.served()
            record = installer.install(pair, record, served)
            catalog["pairs"][pair.id] = record
            self.catalog_path.write_text(json.dumps(catalog, indent=1))
            progress(f"{pair} installed in {record['seconds']} s: {record['prefix']}")
            records.append(record)
        return records

    def newest_pair(self) -> Pair:
        """The newest Mesa and virglrenderer series the mirror serves (offline: the newest installed)."""
        installer = PairInstaller(self.root, lambda line: None)
        try:
            installer.update()
            served = installer.served()
        except UserError:
            if not self.pairs():
                raise
            return max(self.pairs(), key=lambda p: (series_key(p.mesa), series_key(p.virglrenderer)))
        return Pair(max(served["mesa"], key=series_key), max(served["virglrenderer"], key=series_key))

    def remove(self, pairs: list[Pair]) -> list[str]:
        """Delete pairs' prefixes (their .debs stay cached). What was freed, one line per pair."""
        catalog = self.catalog
        lines = []
        for pair in pairs:
            if pair.id not in catalog["pairs"]:
                raise UserError(f"lab pair {pair.id} is not installed (installed: "
                                f"{', '.join(p.id for p in self.pairs()) or 'none'})")
            if self._running_pair() == pair and self.running_pid() is not None:
                raise UserError(f"lab '{self.name}' runs on {pair.id} (venustui lab down first)")
            freed = PairInstaller(self.root).remove(pair.id)
            del catalog["pairs"][pair.id]
            self.catalog_path.write_text(json.dumps(catalog, indent=1))
            lines.append(f"{pair.id}: removed, {freed / 1e6:.0f} MB freed (its .debs stay cached in {self.root / 'debs'})")
        return lines

    def _running_pair(self) -> Pair | None:
        try:
            text = (self.runtime / "pair").read_text().strip()
        except OSError:
            return None
        return Pair.parse(text) if text and self.running_pid() is not None else None

    # running ---------------------------------------------------------------------
    @property
    def socket_path(self) -> Path:
        return self.runtime / "venus.sock"

    @property
    def pid_path(self) -> Path:
        return self.runtime / "server.pid"

    def _require(self) -> dict:
        if not self.installed():
            flags = f" --mesa {self.pair.mesa} --virglrenderer {self.pair.virglrenderer}"
            raise UserError(f"lab pair {self.pair.id} is not installed in {self.root} (run: venustui lab install"
                            f"{flags if self.pair != Pair(*DEFAULT_PAIR) else ''})")
        return self.manifest

    def guest_env(self, base: dict | None = None, debug: tuple[str, ...] = ("vtest", "init", "result")) -> dict:
        """What a guest process needs to reach this lab (the Venus ICD is chosen by the runner; the
        process itself must start through ``guest_launcher``, the prefix's loader)."""
        env = dict(os.environ if base is None else base)
        env.update(VN_DEBUG=",".join(debug), VTEST_SOCKET_NAME=str(self.socket_path),
                   VK_LOADER_LAYERS_DISABLE=NO_IMPLICIT_LAYERS)
        env.pop("LD_LIBRARY_PATH", None)  # the prefix's loader takes --library-path; host libraries stay out
        return env

    def guest_launcher(self) -> list[str]:
        """The argv prefix that runs a guest program with the pair's glibc, loader and ICD libraries."""
        return self.prefix.launcher

    def runner_options(self) -> dict:
        """What a probe Runner needs to run guest programs against this lab."""
        from venustui.parse.venus_flags import parse_version

        mesa = self.versions().get("mesa")
        return {"base_env": self.guest_env(), "driver_files": self.manifest["virtio_icd"], "health": self.health,
                "launcher": self.guest_launcher(), "mesa": parse_version(mesa) if mesa else None}

    def server_command(self, *, host_icd: str | None = None, render_server: str | None = None,
                       vkr_debug: tuple[str, ...] = ()) -> tuple[list[str], dict]:
        m = self._require()
        server = m["server"]
        render_server = render_server or m["render_server_exec"]
        for label, path in (("server", server), ("render server", render_server)):
            if not Path(path).is_file():
                raise UserError(f"lab {label} {path} is missing (run: venustui lab install --force)")
        if len(str(self.socket_path)) > SOCKET_MAX:
            raise UserError(f"socket path {self.socket_path} is {len(str(self.socket_path))} bytes, over the "
                            f"{SOCKET_MAX} a UNIX socket allows (set XDG_RUNTIME_DIR to a shorter folder)")
        env = dict(os.environ)
        for key in ("VK_ICD_FILENAMES", "LD_LIBRARY_PATH", "VK_LAYER_PATH"):
            env.pop(key, None)
        env.update(VK_DRIVER_FILES=host_icd or m["host_icd"], RENDER_SERVER_EXEC_PATH=render_server,
                   VK_LOADER_LAYERS_DISABLE=NO_IMPLICIT_LAYERS, VK_ADD_LAYER_PATH=m["layer_path"],
                   MESA_SHADER_CACHE_DIR=str(self.runtime / "shader-cache"))
        if vkr_debug:
            env["VKR_DEBUG"] = ",".join(vkr_debug)
        else:
            env.pop("VKR_DEBUG", None)
        argv = [*self.prefix.launcher, server, "--venus", "--no-virgl", f"--socket-path={self.socket_path}"]
        return argv, env

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
        (self.runtime / "pair").write_text(self.pair.id)
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
        (self.runtime / "pair").unlink(missing_ok=True)
        self.server = None
        self.source = None
        return how

    # doctor ----------------------------------------------------------------------
    def doctor(self) -> list[Check]:
        """Each part of the chosen pair, loaded the way the lab runs it (through the prefix's loader)."""
        import ctypes.util

        checks = [Check("loader", bool(ctypes.util.find_library("vulkan")), "libvulkan.so.1 (for the native probe)",
                        "apt-get install libvulkan1")]
        installed = self.pairs()
        if not installed:
            checks.append(Check("install", False, f"no pair installed in {self.root}", "venustui lab install"))
            return checks
        m = self.manifest
        if not m:
            checks.append(Check("pair", False, f"{self.pair.id} is not installed (installed: "
                                f"{', '.join(p.id for p in installed)})",
                                f"venustui lab install --mesa {self.pair.mesa} --virglrenderer {self.pair.virglrenderer}"))
            return checks
        checks.append(Check("pair", True, self.describe()))
        checks.append(Check("debs", PairInstaller(self.root)._cached(m),
                            f"{len(m.get('debs', {}))} .debs cached with checksums in {self.root / 'debs'}",
                            "venustui lab install --force (downloads them again)"))
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
            ok = path.is_file() and Path(m["loader"]).is_file()
            detail = f"{path} (through {Path(m['loader']).name} of glibc {m.get('glibc', '?')})"
            if ok:
                probe = subprocess.run([*self.prefix.launcher, "--list", str(path)], capture_output=True, text=True)
                missing = [line.split()[0] for line in probe.stdout.splitlines() if "=> not found" in line]
                foreign = [line.split("=> ")[1].split()[0] for line in probe.stdout.splitlines()
                           if "=> /" in line and not line.split("=> ")[1].startswith(m["prefix"])]
                ok = probe.returncode == 0 and not missing and not foreign
                detail += f" (missing: {', '.join(missing)})" if missing else ""
                detail += f" (from the host: {', '.join(foreign)})" if foreign else ""
            checks.append(Check(label, ok, detail, "venustui lab install --force"))
        pid = self.running_pid()
        stale = self.socket_path.exists() and pid is None and not _socket_in_use(self.socket_path)
        if stale:
            checks.append(Check("socket", False, f"{self.socket_path} left by a crashed session",
                                "venustui lab down (removes it)"))
        else:
            running = f"server pid {pid} on {self._running_pair().id}" if pid and self._running_pair() else (
                f"server pid {pid}" if pid else "not running")
            checks.append(Check("socket", True, f"{self.socket_path}: {running}"))
        return checks


def _socket_in_use(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()
