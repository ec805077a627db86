"""Which Vulkan drivers the loader would find, and which render server virglrenderer would fork.

Follows the Vulkan loader's rules: VK_DRIVER_FILES (or the older VK_ICD_FILENAMES, which it
ignores when VK_DRIVER_FILES is set) replaces the search; VK_ADD_DRIVER_FILES adds to it; otherwise
the XDG configuration and data folders and /etc are searched for ``vulkan/icd.d/*.json``. A
manifest's ``library_path`` is absolute, relative to the manifest (when it holds a slash), or a bare
name found through the library search path.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from venustui.errors import UserError

LIBRARY_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib")


@dataclass
class Manifest:
    path: str
    origin: str  # how it was found: VK_DRIVER_FILES, search folder, lab, ...
    library_path: str = ""
    library: str = ""  # resolved file, or "" when it cannot be found
    api_version: str = ""
    problem: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return Path(self.path).stem


def search_dirs(env: dict[str, str]) -> list[Path]:
    home = Path(env.get("HOME", str(Path.home())))
    config_home = env.get("XDG_CONFIG_HOME") or str(home / ".config")
    config_dirs = (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":")
    data_home = env.get("XDG_DATA_HOME") or str(home / ".local/share")
    data_dirs = (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
    folders = [config_home, *config_dirs, "/etc", data_home, *data_dirs]
    return [Path(f) / "vulkan" / "icd.d" for f in folders if f]


def _expand(value: str, origin: str) -> list[tuple[Path, str]]:
    out = []
    for item in value.split(os.pathsep):
        if not item:
            continue
        path = Path(item)
        if path.is_dir():
            out += [(p, origin) for p in sorted(path.glob("*.json"))]
        else:
            out.append((path, origin))
    return out


def discover(env: dict[str, str] | None = None, extra: list[tuple[Path, str]] = ()) -> list[Manifest]:
    env = dict(os.environ if env is None else env)
    found: list[tuple[Path, str]] = []
    notes = []
    if env.get("VK_DRIVER_FILES"):
        found = _expand(env["VK_DRIVER_FILES"], "VK_DRIVER_FILES")
        if env.get("VK_ICD_FILENAMES"):
            notes.append("VK_ICD_FILENAMES is set too and ignored: the loader prefers VK_DRIVER_FILES")
    elif env.get("VK_ICD_FILENAMES"):
        found = _expand(env["VK_ICD_FILENAMES"], "VK_ICD_FILENAMES")
    else:
        for folder in search_dirs(env):
            found += [(p, str(folder)) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    if env.get("VK_ADD_DRIVER_FILES"):
        found = _expand(env["VK_ADD_DRIVER_FILES"], "VK_ADD_DRIVER_FILES") + found
    found += list(extra)
    manifests = [read_manifest(path, origin, env) for path, origin in found]
    for manifest in manifests[:1]:
        manifest.notes += notes
    return manifests


def read_manifest(path: Path, origin: str, env: dict[str, str] | None = None) -> Manifest:
    manifest = Manifest(str(path), origin)
    if path.is_dir():
        manifest.problem = "is a directory, not a manifest"
        return manifest
    try:
        data = json.loads(path.read_text())
        icd = data["ICD"]
        manifest.library_path = icd["library_path"]
        manifest.api_version = str(icd.get("api_version", ""))
    except FileNotFoundError:
        manifest.problem = "no such file"
        return manifest
    except (OSError, ValueError) as exc:
        manifest.problem = f"not valid JSON ({exc})"
        return manifest
    except (KeyError, TypeError):
        manifest.problem = "no ICD.library_path in it"
        return manifest
    manifest.library = resolve_library(manifest.library_path, path, env or dict(os.environ)) or ""
    if not manifest.library:
        manifest.problem = f"library {manifest.library_path} not found"
    return manifest


def resolve_library(name: str, manifest: Path, env: dict[str, str]) -> str | None:
    if os.path.isabs(name):
        return name if os.path.exists(name) else None
    if "/" in name:
        candidate = (manifest.parent / name).resolve()
        return str(candidate) if candidate.exists() else None
    for folder in [d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d] + _ldconfig_dirs(name) + list(LIBRARY_DIRS):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


def _ldconfig_dirs(name: str) -> list[str]:
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(Path(line.split("=>")[-1].strip()).parent) for line in out.splitlines() if line.strip().startswith(name)]


def pick(manifests: list[Manifest], name: str) -> list[Manifest]:
    """Manifests whose file name starts with NAME (virtio matches virtio_icd.json, virtio.json)."""
    chosen = [m for m in manifests if m.stem == name or m.stem.startswith(name + "_") or m.stem.startswith(name + ".")
              or m.stem == f"{name}_icd" or Path(m.path).name.startswith(name)]
    if not chosen:
        known = ", ".join(sorted({m.stem for m in manifests})) or "none"
        raise UserError(f"--icd {name}: no ICD manifest of that name (found: {known})")
    return chosen


def render_server(env: dict[str, str] | None = None, lab_manifest: dict | None = None) -> tuple[str, str]:
    """The render server virglrenderer will fork, and why that one."""
    env = dict(os.environ if env is None else env)
    if env.get("RENDER_SERVER_EXEC_PATH"):
        return env["RENDER_SERVER_EXEC_PATH"], "RENDER_SERVER_EXEC_PATH"
    if lab_manifest and lab_manifest.get("render_server"):
        return lab_manifest["render_server"], "the lab"
    for candidate in ("/usr/libexec/virgl_render_server", "/usr/local/libexec/virgl_render_server"):
        if os.path.exists(candidate):
            return candidate, "default install path"
    raise UserError("no render server found: set RENDER_SERVER_EXEC_PATH or install virgl-server (or the lab)")
