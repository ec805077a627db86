"""The wheel, installed as a user installs it (pip, not editable, into a fresh venv): it carries everything the
program reads (stylesheet, themes, the knowledge base's data, the probe) and runs from there."""

from __future__ import annotations

import os
import subprocess
import sys
import venv

import pytest

from ..conftest import DATA, ROOT

pytestmark = pytest.mark.timeout(900)


def run(*argv, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv (outside the checkout) with the wheel built from this checkout, and its dependencies."""
    where = tmp_path_factory.mktemp("wheel")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", where / "dist", ROOT)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (where / "dist").glob("venustui-*.whl")
    venv.create(where / "venv", with_pip=True)
    python = where / "venv" / "bin" / "python"
    pip = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", ROOT / "constraints.txt",
              wheel)
    assert pip.returncode == 0, pip.stderr[-2000:]
    return python, where


def test_the_installed_wheel_runs_its_commands_from_anywhere(installed):
    python, where = installed
    env = {**os.environ, "PYTHONPATH": "", "XDG_CONFIG_HOME": str(where / "config")}
    here = {"cwd": where, "env": env}  # not the checkout: nothing may come from it
    location = run(python, "-c", "import venustui; print(venustui.__file__)", **here)
    assert "site-packages" in location.stdout and str(ROOT) not in location.stdout
    version = run(python, "-m", "venustui", "--version", **here)
    assert version.returncode == 0 and version.stdout.startswith("venustui ")
    decoded = run(python, "-m", "venustui", "decode", "0x50000000005", **here)
    assert decoded.returncode == 0 and "0x50000000005" in decoded.stdout
    named = run(python, "-m", "venustui", "decode", "--as", "virtio-gpu", "0x209", **here)
    assert "RESOURCE_UNMAP_BLOB" in named.stdout
    log = DATA / "real-threads" / "08-krunkit-hvf-map_memory-err-createFence-OutOfHostMemory.log"
    diagnosed = run(python, "-m", "venustui", "diagnose", log, **here)
    assert diagnosed.returncode == 1 and "hvf-16k" not in diagnosed.stderr and "HV_BAD_ARGUMENT" in diagnosed.stdout
    tui = run(python, ROOT / "tests" / "smoke" / "tui_smoke.py", DATA / "seed" / "guest.log", **here)
    assert tui.returncode == 0, tui.stdout + tui.stderr[-3000:]
