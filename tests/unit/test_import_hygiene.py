"""The core (everything but venustui.tui) must run without Textual: checked in a clean interpreter."""

import pkgutil
import subprocess
import sys

import venustui


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(venustui.__path__, "venustui."):
        if info.name == "venustui.tui" or info.name.startswith("venustui.tui.") or info.name == "venustui.__main__":
            continue
        names.append(info.name)
    return names


def test_core_imports_without_textual():
    modules = core_modules()
    assert "venustui.parse" in modules and "venustui.model" in modules and "venustui.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core modules pulled in Textual: {out.stdout.strip()}"
