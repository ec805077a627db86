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
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from venustui import paths
from venustui.errors import UserError
from venustui.lab_install import CLOSURE, DEFAULT_PAIR, Pair, PairInstaller, Prefix, series_key
from venustui.lab_qemu import GUEST_ICD, GUEST_PROBE, Machine, QemuVM, build_initramfs, guest_version, install_guest_kit
from venustui.sources.serial import SerialSource
from venustui.sources.stream import CommandSource, kill_group, process_alive

VMMS = ("qemu", "vtest")  # the user's topology (a QEMU guest), or Venus over a UNIX socket
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


class Lab:
    """One lab (a name, a runtime folder, a server) on one installed pair."""

    def __init__(self, name: str = "default", root: Path | None = None, runtime: Path | None = None,
                 pair: Pair | str | None = None, vmm: str = "vtest", machine: Machine | None = None):
        self.name = name
        self.root = root or default_root()
        self.runtime = runtime or default_runtime(name)
        self.catalog_path = self.root / "lab.json"
        self._pair = Pair.parse(pair) if isinstance(pair, str) else pair
        if vmm not in VMMS:
            raise UserError(f"lab VMM {vmm!r} is not one of {', '.join(VMMS)} (--vmm qemu or --vmm vtest)")
        self.vmm = vmm
        self.machine = machine or Machine()
        self.server: subprocess.Popen | None = None
        self.source: CommandSource | None = None
        self.console: SerialSource | None = None

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
        return Prefix(self.require())

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
        return {"pair": self.pair.id, "vmm": self.vmm, "versions": self.versions(), "describe": self.describe()}

    def describe(self, topology: bool = True) -> str:
        v = self.versions()
        how = "" if not topology else (f"; {self.vm.describe()}" if self.vmm == "qemu" and self.installed() else
                                       "; Venus over vtest (a UNIX socket)" if self.vmm == "vtest" else "")
        return (f"{self.pair.id}: Mesa {v.get('mesa', '?')} (guest Venus and host lavapipe), "
                f"virglrenderer {v.get('virglrenderer', '?')}, glibc {v.get('glibc', '?')} (the prefix's own){how}")

    @property
    def vm(self) -> QemuVM:
        return QemuVM(self.require(), self.catalog.get("guest", {}), self.runtime, self.machine)

    @staticmethod
    def _complete(record: dict) -> bool:
        keys = ("loader", "server", "render_server", "render_server_exec", "virtio_icd", "host_icd", "initramfs")
        return (bool(record) and record.get("extra_packages") == list(CLOSURE)
                and all(record.get(k) and Path(record[k]).exists() for k in keys))

    def installed(self) -> bool:
        return self._complete(self.manifest)

    def install(self, pairs: list[Pair] | None = None, *, all_served: bool = False, force: bool = False,
                progress: Callable[[str], None] = print) -> list[dict]:
        """Install pairs (default: trixie's), each from its cached .debs when they are all there."""
        self.root.mkdir(parents=True, exist_ok=True)
        installer = PairInstaller(self.root, progress)
        catalog = self.catalog
        for stale in ("prefix", "icd"):  # the single-pair layout before pairs: its prefix is of no use now
            if not catalog["pairs"] and (self.root / stale).is_dir():
                shutil.rmtree(self.root / stale)
                progress(f"removed {self.root / stale} (the lab's layout before pairs)")
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
                if record.get("guest_version") != guest_version():  # venustui's guest sources changed
                    progress(f"{pair}: rebuilding the QEMU guest (its init, agent or probe changed)")
                    catalog["guest"] = self._guest_kit(installer, catalog.get("guest", {}), progress)
                    self._guest_initramfs(record, catalog)
                    self.catalog_path.write_text(json.dumps(catalog, indent=1))
                progress(f"{pair} already installed ({record['versions']['mesa']} × "
                         f"{record['versions']['virglrenderer']}); --force reinstalls")
                records.append(record)
                continue
            if served is None and not (record and installer.cached(record)):
                installer.update()
                served = installer.served()
            record = installer.install(pair, record, served)
            catalog["guest"] = self._guest_kit(installer, catalog.get("guest", {}), progress)
            self._guest_initramfs(record, catalog)
            catalog["pairs"][pair.id] = record
            self.catalog_path.write_text(json.dumps(catalog, indent=1))
            progress(f"{pair} installed in {record['seconds']} s: {record['prefix']}")
            records.append(record)
        return records

    @staticmethod
    def _guest_initramfs(record: dict, catalog: dict) -> None:
        target = Path(record["prefix"]).parent / "initramfs.gz"
        record["initramfs"] = str(build_initramfs(record, catalog["guest"], target))
        record["guest_version"] = catalog["guest"]["version"]

    def _guest_kit(self, installer: PairInstaller, kit: dict, progress) -> dict:
        """The QEMU guest's kernel, busybox and programs: from cached .debs, else from the mirror."""
        from venustui.lab_qemu import build_guest_kit

        if (kit.get("kernel") and Path(kit["kernel"]).exists() and (Path(kit["bin"]) / "venus-probe").exists()
                and kit.get("version") == guest_version()):
            return kit
        if kit.get("debs") and all((self.root / "debs" / n).is_file() for n in kit["debs"]):
            return build_guest_kit(self.root, kit["debs"], progress) | {"debs": kit["debs"]}
        installer.prepare_apt()
        return install_guest_kit(self.root, installer.options(("trixie",)), progress)

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

    def running_vmm(self) -> str | None:
        try:
            return (self.runtime / "vmm").read_text().strip() if self.running_pid() is not None else None
        except OSError:
            return None

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

    def require(self) -> dict:
        if not self.installed():
            flags = f" --mesa {self.pair.mesa} --virglrenderer {self.pair.virglrenderer}"
            raise UserError(f"lab pair {self.pair.id} is not installed in {self.root} (run: venustui lab install"
                            f"{flags if self.pair != Pair(*DEFAULT_PAIR) else ''})")
        return self.manifest

    def guest_env(self, base: dict | None = None, debug: tuple[str, ...] = ("vtest", "init", "result")) -> dict:
        """What a guest process needs to reach this lab (the Venus ICD is chosen by the runner; the
        process itself starts through ``launch``). A QEMU guest gets only its Venus variables."""
        if self.vmm == "qemu":
            return {"VN_DEBUG": ",".join(d for d in debug if d != "vtest")}
        env = dict(os.environ if base is None else base)
        env.update(VN_DEBUG=",".join(debug), VTEST_SOCKET_NAME=str(self.socket_path),
                   VK_LOADER_LAYERS_DISABLE=NO_IMPLICIT_LAYERS)
        env.pop("LD_LIBRARY_PATH", None)  # the prefix's loader takes --library-path; host libraries stay out
        return env

    def launch(self, argv: list[str], env: dict[str, str]) -> list[str]:
        """How the runner starts a guest program: in the QEMU guest through its agent; over vtest, an ELF
        program under the pair's loader (a script would load the host's glibc with the pair's ICD)."""
        if self.vmm == "qemu":
            return self.vm.launch(argv, env)
        program = shutil.which(argv[0], path=env.get("PATH")) or argv[0]
        try:
            with open(program, "rb") as handle:
                elf = handle.read(4) == b"\x7fELF"
        except OSError:
            elf = False
        return [*self.prefix.launcher, program, *argv[1:]] if elf else argv

    def runner_options(self) -> dict:
        """What a probe Runner needs to run guest programs against this lab."""
        from venustui.parse.venus_flags import parse_version

        mesa = self.versions().get("mesa")
        qemu = self.vmm == "qemu"
        return {"base_env": self.guest_env(), "driver_files": GUEST_ICD if qemu else self.manifest["virtio_icd"],
                "health": self.health, "launch": self.launch, "probe_argv": [GUEST_PROBE] if qemu else None,
                "mesa": parse_version(mesa) if mesa else None}

    def server_command(self, *, host_icd: str | None = None, render_server: str | None = None,
                       vkr_debug: tuple[str, ...] = ()) -> tuple[list[str], dict]:
        m = self.require()
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
            if socket_in_use(self.socket_path):
                raise UserError(f"{self.socket_path} is in use by another server (stop it, or use another lab name)")
            self.socket_path.unlink()

    def clean_stale(self) -> list[str]:
        """Files a crashed session left: a pid file of a dead server, a socket nobody listens on."""
        cleaned = []
        if self.pid_path.exists() and self.running_pid() is None:
            self.pid_path.unlink()
            cleaned.append(str(self.pid_path))
        if self.socket_path.exists() and self.running_pid() is None and not socket_in_use(self.socket_path):
            self.socket_path.unlink()
            cleaned.append(str(self.socket_path))
        return cleaned

    def start(self, sink=None, *, vkr_debug: tuple[str, ...] = (), host_icd: str | None = None,
              render_server: str | None = None, timeout: float = 10.0) -> float:
        """Start the server (or the QEMU guest); its stdout and stderr go to sink as the 'host' source (or to
        files), a guest's serial console as the 'console' source. Seconds until it serves Venus."""
        self._prepare_runtime()
        if self.vmm == "qemu":
            for stale in ("agent.sock", "qmp.sock", "console.sock"):
                (self.runtime / stale).unlink(missing_ok=True)
            argv, env = self.vm.command(console_file=None if sink is not None else self.runtime / "console.log",
                                        vkr_debug=vkr_debug, base=os.environ)
        else:
            argv, env = self.server_command(host_icd=host_icd, render_server=render_server, vkr_debug=vkr_debug)
        if sink is not None:  # a session's lab ends with the session, even a killed one (`lab up` outlives its CLI)
            argv = [sys.executable, "-m", "venustui.supervise", "--", *argv]
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
        (self.runtime / "vmm").write_text(self.vmm)
        if self.vmm == "qemu":
            return self._boot(sink, started)
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

    def _boot(self, sink, started: float) -> float:
        """The console first (QEMU waits for it), then the guest's agent answering."""
        if sink is not None:
            socket_file = self.runtime / "console.sock"
            while not socket_file.exists() and self.server.poll() is None and time.monotonic() - started < 10:
                time.sleep(0.01)
            self.console = SerialSource("console", str(socket_file), sink, follow=False)
            self.console.start()
        try:
            self.vm.wait_for_agent(alive=lambda: self.server is not None and self.server.poll() is None)
        except UserError:
            self.stop()
            raise
        return time.monotonic() - started

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
        return f"the lab's {'QEMU' if self.vmm == 'qemu' else 'render server'} stopped ({name})"

    def stop(self) -> str:
        how = "not running"
        if self.console is not None:
            self.console.stop()
            self.console = None
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
        for state in ("pair", "vmm"):
            (self.runtime / state).unlink(missing_ok=True)
        self.server = None
        self.source = None
        return how

def socket_in_use(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()
