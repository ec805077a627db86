"""The structure holds: every module has a layer, a planted violation breaks a contract (import-linter)
or the lint (ruff), docs/ARCHITECTURE.md lists exactly the modules that exist, and no module is over
500 lines without a reason at its top."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ..conftest import ROOT

PACKAGE = ROOT / "venustui"
BIN = Path(sys.executable).parent


def modules() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py"))


def contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_every_module_has_a_layer():
    layers = next(c for c in contracts() if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    tops = {f"venustui.{p.stem}" if p.is_file() else f"venustui.{p.name}" for p in PACKAGE.iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    assert tops == placed, (sorted(tops - placed), sorted(placed - tops))


def test_the_architecture_doc_lists_exactly_the_modules_that_exist():
    listed = re.findall(r"^\| `(venustui/[\w/]+\.py)` \|", (ROOT / "docs" / "ARCHITECTURE.md").read_text(), re.M)
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert sorted(listed) == modules()


def test_no_module_is_over_500_lines_without_a_reason_at_its_top():
    for name in modules():
        source = (ROOT / name).read_text()
        if source.count("\n") > 500:
            docstring = ast.get_docstring(ast.parse(source)) or ""
            assert "500 lines" in docstring, f"{name} is over 500 lines and its docstring does not say why"


def _copy(tmp_path: Path) -> Path:
    work = tmp_path / "copy"
    shutil.copytree(PACKAGE, work / "venustui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    return work


def _lint_imports(work: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=work, capture_output=True, text=True,
                          env={"PYTHONPATH": str(work), "PATH": "/usr/bin:/bin"}, timeout=300)


def test_the_contracts_hold_and_a_planted_violation_breaks_them(tmp_path):
    work = _copy(tmp_path)
    assert _lint_imports(work).returncode == 0
    events = work / "venustui" / "events.py"
    events.write_text(events.read_text() + "\nimport textual  # planted\n")
    broken = _lint_imports(work)
    assert broken.returncode != 0 and "The core never imports Textual" in broken.stdout and "BROKEN" in broken.stdout
    events.write_text(events.read_text().replace("\nimport textual  # planted\n", "\n"))
    fold = work / "venustui" / "model" / "fold.py"
    fold.write_text(fold.read_text() + "\nfrom venustui.session import Session  # planted: the model reaches up\n")
    broken = _lint_imports(work)
    assert broken.returncode != 0 and "Layers" in broken.stdout and "venustui.model.fold" in broken.stdout


def test_ruff_passes_and_fails_on_a_planted_unused_import(tmp_path):
    ruff = [str(BIN / "ruff"), "check", "--no-cache"]
    assert subprocess.run([*ruff, "venustui", "tests", "bench"], cwd=ROOT, capture_output=True).returncode == 0
    work = _copy(tmp_path)
    (work / "venustui" / "numbers.py").write_text((PACKAGE / "numbers.py").read_text() + "\nimport json\n")
    out = subprocess.run([*ruff, "venustui"], cwd=work, capture_output=True, text=True)
    assert out.returncode != 0 and "F401" in out.stdout


@pytest.mark.parametrize("tool", ["ruff", "lint-imports"])
def test_make_test_runs_the_guards(tool):
    recipe = re.search(r"^test: .*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert tool in recipe
