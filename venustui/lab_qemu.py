"""The QEMU lab: the user's own topology on this machine (VENUS_LAB.md, "A QEMU guest on this machine").

QEMU under TCG with ``virtio-gpu-gl-pci,blob=true,venus=true``, the pair's virglrenderer and render server
behind it with lavapipe, SDL's offscreen video driver and Mesa's EGL for ``gl=on`` (no X server, no
/dev/dri on the host). The guest is Debian's kernel and an initramfs built here: busybox, the modules
virtio-gpu needs, the pair's glibc and Venus ICD, and two programs compiled at install time — the guest
probe (``venustui/probe/guest.c``, the Python probe's protocol) and the agent (``venustui/probe/agent.c``)
that runs it on a virtio-serial port. Every run goes through ``venustui.guest_client``, a local process
the runner treats like any other. Sources: QEMU's stderr (host: ``vkr:`` lines, QEMU's errors) and the
serial console (the guest kernel's ``[drm]`` lines, the agent's). In a session QEMU runs under
``venustui.supervise``, so neither it nor its render server outlives venustui.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from venustui import initramfs
from venustui.errors import UserError
from venustui.guest_client import Agent
from venustui.lab_install import ARCH, run_checked, sha256_of

GUEST_ICD = "/usr/share/vulkan/icd.d/virtio_icd.json"
GUEST_PROBE = "/bin/venus-probe"
GUEST_AGENT = "/bin/venustui-agent"
# virtio-gpu and what it needs, in load order (the rest of virtio is built into Debian's kernel).
KERNEL_MODULES = ("drivers/gpu/drm/drm.ko", "drivers/gpu/drm/drm_kms_helper.ko", "drivers/gpu/drm/drm_shmem_helper.ko",
                  "drivers/virtio/virtio_dma_buf.ko", "drivers/gpu/drm/virtio/virtio-gpu.ko")
GUEST_SUITE = "trixie"  # one guest kernel and busybox for every pair
BOOT_SECONDS = 60.0
AGENT_BACKSTOP = 3600  # seconds a guest program may run before the agent itself ends it
INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for module in {modules}; do insmod /usr/lib/modules/$module.ko || echo "venustui-init: insmod $module failed"; done
echo "venustui-init: guest up, starting the agent"
while true; do
  {agent}
  echo "venustui-init: the agent ended (status $?); starting it again"
  sleep 1
done
"""


def guest_version() -> str:
    """What the guest is built from here (init, agent, probe): a lab built from other sources is rebuilt."""
    digest = hashlib.sha256(INIT.encode())
    for name in ("agent.c", "guest.c"):
        digest.update((Path(__file__).with_name("probe") / name).read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Machine:
    """What the VMM is asked for: the knobs the fault scenarios turn."""

    hostmem: str = "256M"
    venus: bool = True
    blob: bool = True
    memory: str = "1G"


def install_guest_kit(root: Path, options: list[str], progress) -> dict:
    """Debian's kernel and busybox (shared by every pair), and the two guest programs built here."""
    pool = root / "debs"
    listing = subprocess.run(["apt-cache", *options, "depends", "linux-image-amd64"], capture_output=True, text=True)
    image = next((line.split(":", 1)[1].strip() for line in listing.stdout.splitlines()
                  if line.strip().startswith("Depends: linux-image-")), "")
    if not image:
        raise UserError("the mirror's trixie has no linux-image-amd64 (check the network, then lab install again)")
    progress(f"guest: {image} and busybox-static ({GUEST_SUITE}), the agent and probe built with gcc")
    run_checked(["apt-get", *options, "download", image, "busybox-static"], what="downloading the guest kernel", cwd=pool)
    debs = {}
    for name in (image, "busybox-static"):
        found = sorted(pool.glob(f"{name}_*.deb"))
        if not found:
            raise UserError(f"apt did not leave {name} in {pool} (run venustui lab install again)")
        debs[found[-1].name] = sha256_of(found[-1])
    return build_guest_kit(root, debs, progress) | {"debs": debs}


def build_guest_kit(root: Path, debs: dict[str, str], progress) -> dict:
    guest = root / "guest"
    unpacked = guest / "unpacked"
    if guest.exists():
        shutil.rmtree(guest)
    unpacked.mkdir(parents=True)
    for name in debs:
        run_checked(["dpkg", "-x", str(root / "debs" / name), str(unpacked)], what=f"unpacking {name}")
    kernel = next(iter(sorted((unpacked / "boot").glob("vmlinuz-*"))), None)
    modules = next(iter(sorted((unpacked / "usr/lib/modules").glob("*"))), None)
    busybox = unpacked / "usr/bin/busybox"
    if kernel is None or modules is None or not busybox.exists():
        raise UserError(f"the guest kernel or busybox did not unpack in {unpacked} (venustui lab install --force)")
    built = guest / "modules"
    built.mkdir()
    for module in KERNEL_MODULES:
        source = modules / "kernel" / (module + ".xz")
        (built / Path(module).name).write_bytes(lzma.decompress(source.read_bytes()))  # busybox insmod wants plain .ko
    programs = guest / "bin"
    programs.mkdir()
    from venustui.probe.build import build_guest_probe

    build_guest_probe(programs / Path(GUEST_PROBE).name)
    agent_source = Path(__file__).with_name("probe") / "agent.c"
    run_checked(["gcc", "-std=gnu11", "-O2", "-Wall", "-o", str(programs / Path(GUEST_AGENT).name), str(agent_source)],
         what="building the guest agent (apt-get install gcc)")
    shutil.copy(busybox, programs / "busybox")
    shutil.rmtree(unpacked / "usr/lib/modules")  # 400 MB of modules; the five needed are kept above
    return {"kernel": str(kernel), "kernel_release": modules.name, "bin": str(programs), "modules": str(built),
            "version": guest_version()}


def build_initramfs(record: dict, kit: dict, target: Path) -> Path:
    """The pair's guest: its glibc, loader, Venus ICD and their libraries, plus the kit's programs."""
    prefix = Path(record["prefix"])
    launcher = [record["loader"], "--library-path", record["library_path"]]
    icd_library = prefix / "usr/lib" / ARCH / "libvulkan_virtio.so"
    wanted = {prefix / "usr/lib64/ld-linux-x86-64.so.2", icd_library, prefix / "usr/lib" / ARCH / "libvulkan.so.1"}
    for library in list(wanted - {prefix / "usr/lib64/ld-linux-x86-64.so.2"}):
        listing = subprocess.run([*launcher, "--list", str(library)], capture_output=True, text=True)
        wanted |= {Path(line.split("=> ")[1].split()[0]) for line in listing.stdout.splitlines()
                   if "=> /" in line}
    entries = [initramfs.Entry.link("lib", "usr/lib"), initramfs.Entry.link("lib64", "usr/lib64")]
    entries += [initramfs.Entry.folder(d) for d in ("proc", "sys", "dev", "tmp")]
    for library in sorted(wanted):
        inside = library.relative_to(prefix) if library.is_relative_to(prefix) else None
        if inside is None:
            raise UserError(f"{library} is not in the pair's prefix {prefix} (venustui lab install --force)")
        entries.append(initramfs.Entry.file(str(inside), library.read_bytes(), executable=True))
    icd = json.loads(next(iter(sorted((prefix / "usr/share/vulkan/icd.d").glob("virtio_icd*.json")))).read_text())
    icd["ICD"]["library_path"] = f"/usr/lib/{ARCH}/libvulkan_virtio.so"
    entries.append(initramfs.Entry.file(GUEST_ICD, json.dumps(icd).encode()))
    for program in Path(kit["bin"]).iterdir():
        entries.append(initramfs.Entry.file(f"bin/{program.name}", program.read_bytes(), executable=True))
    modules = [Path(m).stem for m in KERNEL_MODULES]
    for name in modules:
        entries.append(initramfs.Entry.file(f"usr/lib/modules/{name}.ko", (Path(kit["modules"]) / f"{name}.ko").read_bytes()))
    entries.append(initramfs.Entry.file("init", INIT.format(modules=" ".join(modules), agent=GUEST_AGENT).encode(),
                                        executable=True))
    return initramfs.write(entries, target)


class QemuVM:
    """One QEMU guest of the lab: its command line, its start to a guest agent that answers, its end."""

    def __init__(self, record: dict, kit: dict, runtime: Path, machine: Machine = Machine()):
        self.record = record
        self.kit = kit
        self.runtime = runtime
        self.machine = machine
        self.agent_socket = runtime / "agent.sock"
        self.qmp_socket = runtime / "qmp.sock"
        self.console_socket = runtime / "console.sock"

    def command(self, *, console_file: Path | None = None, vkr_debug: tuple[str, ...] = (),
                base: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
        r, m = self.record, self.machine
        prefix = Path(r["prefix"])
        gpu = (f"virtio-gpu-gl-pci,blob={'true' if m.blob else 'false'},venus={'true' if m.venus else 'false'}"
               + (f",hostmem={m.hostmem}" if m.blob else ""))
        console = f"file:{console_file}" if console_file else f"unix:{self.console_socket},server=on,wait=on"
        argv = [r["loader"], "--library-path", r["library_path"], str(prefix / "usr/bin/qemu-system-x86_64"),
                "-name", "venustui-lab", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", m.memory,
                "-object", f"memory-backend-memfd,id=mem,size={m.memory},share=on",
                "-machine", "q35,memory-backend=mem", "-device", gpu, "-vga", "none", "-nic", "none",
                "-audio", "none", "-display", "sdl,gl=on",
                "-kernel", self.kit["kernel"], "-initrd", r["initramfs"], "-append", "console=ttyS0 panic=-1",
                "-serial", console,  # no -no-reboot: a reset (a guest that stopped answering) boots it again
                "-L", str(prefix / "usr/share/seabios"), "-L", str(prefix / "usr/share/qemu"),
                "-device", "virtio-serial-pci",
                "-chardev", f"socket,id=agent,path={self.agent_socket},server=on,wait=off",
                "-device", "virtserialport,chardev=agent,name=venustui.agent",
                "-qmp", f"unix:{self.qmp_socket},server=on,wait=off"]
        cache = self.runtime / "cache"
        env = {k: v for k, v in (base or {}).items() if k not in ("VK_ICD_FILENAMES", "LD_LIBRARY_PATH", "VKR_DEBUG")}
        env.update(QEMU_MODULE_DIR=str(prefix / "usr/lib" / ARCH / "qemu"), RENDER_SERVER_EXEC_PATH=r["render_server_exec"],
                   VK_DRIVER_FILES=r["host_icd"], VK_LOADER_LAYERS_DISABLE="~implicit~", VK_ADD_LAYER_PATH=r["layer_path"],
                   __EGL_VENDOR_LIBRARY_FILENAMES=str(prefix / "usr/share/glvnd/egl_vendor.d/50_mesa.json"),
                   LIBGL_ALWAYS_SOFTWARE="1", SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy",
                   MESA_SHADER_CACHE_DIR=str(cache), XDG_CACHE_HOME=str(cache))
        if vkr_debug:
            env["VKR_DEBUG"] = ",".join(vkr_debug)
        return argv, env

    def wait_for_agent(self, timeout: float = BOOT_SECONDS, alive=lambda: True) -> float:
        """Seconds until the guest's agent answers a ping (the guest has booted)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not alive():
                raise UserError("QEMU exited while the guest booted (its stderr is the lab's host source; "
                                "venustui lab doctor checks the parts)")
            if self.agent_socket.exists():
                agent = Agent(str(self.agent_socket))
                try:
                    agent.connect(1.0)
                    if agent.ping(1.0):
                        return time.monotonic() - started
                except OSError:
                    pass  # the guest is still booting: its port is not open yet, try again
                finally:
                    if agent.sock is not None:
                        agent.sock.close()
            time.sleep(0.1)
        raise UserError(f"the QEMU guest's agent did not answer within {timeout:g} s (see the console source)")

    def launch(self, argv: list[str], env: Mapping[str, str]) -> list[str]:
        """A guest run as a local process: the client forwards the guest program's variables and argv."""
        forwarded = [f"--env={k}={v}" for k, v in sorted(env.items())]
        # The runner's deadline (no progress) ends hangs; the agent's is only a backstop for a lost client.
        return [sys.executable, "-m", "venustui.guest_client", "--socket", str(self.agent_socket),
                "--qmp", str(self.qmp_socket), "--deadline", str(AGENT_BACKSTOP), *forwarded, "--", *argv]

    def describe(self) -> str:
        m = self.machine
        return (f"QEMU (TCG), virtio-gpu-gl-pci blob={'on' if m.blob else 'off'} venus={'on' if m.venus else 'off'}"
                + (f" hostmem={m.hostmem}" if m.blob else "") + f", guest kernel {self.kit.get('kernel_release', '?')}")
