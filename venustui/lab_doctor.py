"""``venustui lab doctor``: each part of a lab's pair checked the way the lab runs it, with the fix."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from venustui.lab import Lab, socket_in_use
from venustui.lab_install import PairInstaller


@dataclass
class Check:
    part: str
    ok: bool
    detail: str
    fix: str = ""


def doctor(lab: Lab) -> list[Check]:
    """Each part of the chosen pair, loaded the way the lab runs it (through the prefix's loader)."""
    import ctypes.util

    checks = [Check("loader", bool(ctypes.util.find_library("vulkan")), "libvulkan.so.1 (for the native probe)",
                    "apt-get install libvulkan1")]
    installed = lab.pairs()
    if not installed:
        checks.append(Check("install", False, f"no pair installed in {lab.root}", "venustui lab install"))
        return checks
    m = lab.manifest
    if not m:
        checks.append(Check("pair", False, f"{lab.pair.id} is not installed (installed: "
                            f"{', '.join(p.id for p in installed)})",
                            f"venustui lab install --mesa {lab.pair.mesa} --virglrenderer {lab.pair.virglrenderer}"))
        return checks
    checks.append(Check("pair", True, lab.describe(topology=False)))
    checks.append(Check("debs", PairInstaller(lab.root).cached(m),
                        f"{len(m.get('debs', {}))} .debs cached with checksums in {lab.root / 'debs'}",
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
            probe = subprocess.run([*lab.prefix.launcher, "--list", str(path)], capture_output=True, text=True)
            missing = [line.split()[0] for line in probe.stdout.splitlines() if "=> not found" in line]
            foreign = [line.split("=> ")[1].split()[0] for line in probe.stdout.splitlines()
                       if "=> /" in line and not line.split("=> ")[1].startswith(m["prefix"])]
            ok = probe.returncode == 0 and not missing and not foreign
            detail += f" (missing: {', '.join(missing)})" if missing else ""
            detail += f" (from the host: {', '.join(foreign)})" if foreign else ""
        checks.append(Check(label, ok, detail, "venustui lab install --force"))
    kit = lab.catalog.get("guest", {})
    qemu = Path(m["prefix"]) / "usr/bin/qemu-system-x86_64"
    listing = subprocess.run([*lab.prefix.launcher, "--list", str(qemu)], capture_output=True, text=True)
    checks.append(Check("QEMU", listing.returncode == 0 and "not found" not in listing.stdout,
                        f"{qemu} with its OpenGL and SDL modules", "venustui lab install --force"))
    for label, path in (("guest kernel", kit.get("kernel", "")), ("guest initramfs", m.get("initramfs", "")),
                        ("guest programs", str(Path(kit.get("bin", "/nonexistent")) / "venustui-agent"))):
        checks.append(Check(label, bool(path) and Path(path).exists(), path or "missing", "venustui lab install --force"))
    pid = lab.running_pid()
    stale = lab.socket_path.exists() and pid is None and not socket_in_use(lab.socket_path)
    if stale:
        checks.append(Check("socket", False, f"{lab.socket_path} left by a crashed session",
                            "venustui lab down (removes it)"))
    else:
        running = f"server pid {pid} on {lab._running_pair().id}" if pid and lab._running_pair() else (
            f"server pid {pid}" if pid else "not running")
        checks.append(Check("socket", True, f"{lab.socket_path}: {running}"))
    return checks
