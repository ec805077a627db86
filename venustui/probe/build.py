"""Compiling guest.c, the probe in C for guests without Python, into a binary that dlopens libvulkan.so.1."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from venustui.errors import UserError

SOURCE = Path(__file__).with_name("guest.c")
FIX = "apt-get install gcc libvulkan-dev"


def build_guest_probe(out: Path, *, cc: str = "gcc") -> Path:
    """Compile guest.c into out, unless out is already newer than the source; return out."""
    if out.exists() and out.stat().st_mtime >= SOURCE.stat().st_mtime:
        return out
    if shutil.which(cc) is None:
        raise UserError(f"no C compiler {cc!r} to build the guest probe: {FIX}")
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-o", str(out), str(SOURCE), "-ldl"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        if "vulkan/vulkan.h" in done.stderr:
            raise UserError(f"no Vulkan headers (vulkan/vulkan.h) to build the guest probe: {FIX}")
        first_error = next((line for line in done.stderr.splitlines() if "error" in line), done.stderr.strip())
        raise UserError(f"{cc} could not build the guest probe: {first_error}")
    return out
