"""The C probe (guest.c) beside program.py: the same events in the same order on lavapipe, the same errors and exits."""

from __future__ import annotations

import ctypes.util
import glob
import json
import os
import subprocess
import sys

import pytest

from venustui.errors import UserError
from venustui.probe.build import build_guest_probe
from venustui.probe.runner import PASSED, Runner, Target

from ..conftest import ROOT

PYTHON_PROBE = (sys.executable, "-m", "venustui.probe.program")
# Values that differ between any two runs: times, addresses, pids, how many polls fit in a time.
VARYING = {"mono", "ms", "handle", "pid", "polls", "polls_per_s", "bare_polls_per_s", "ratio", "fence_ms", "slot_ms"}


def missing(what: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} must be installed in CI (make test installs them)")
    pytest.skip(f"no {what} here")


@pytest.fixture(scope="module")
def guest_probe(tmp_path_factory) -> str:
    try:
        return str(build_guest_probe(tmp_path_factory.mktemp("guest") / "probe"))
    except UserError as exc:
        missing(f"C compiler or Vulkan headers ({exc})")


@pytest.fixture
def lavapipe_env() -> dict:
    files = sorted(glob.glob("/usr/share/vulkan/icd.d/lvp_icd*.json"))
    if not ctypes.util.find_library("vulkan") or not files:
        missing("Vulkan loader or lavapipe")
    env = {**os.environ, "VK_DRIVER_FILES": files[0]}
    env.pop("VK_ICD_FILENAMES", None)  # the loader would read it only if VK_DRIVER_FILES were unset; keep runs plain
    return env


def run_both(guest_probe: str, *args: str, env: dict | None = None):
    return [subprocess.run([*argv, *args], capture_output=True, text=True, timeout=90, cwd=ROOT, env=env)
            for argv in (PYTHON_PROBE, (guest_probe,))]


def events(done: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in done.stdout.splitlines()]


def shape(event: dict) -> dict:
    """What both streams must agree on: the keys, every value's type, and the values that do not vary."""
    kept = {key: value for key, value in event.items() if key not in VARYING}
    kept["types"] = {key: type(value).__name__ for key, value in event.items()}
    if event["ev"] == "step" and event.get("step") == "status":
        # The empty submit may or may not have signaled by the first poll on lavapipe.
        assert kept.pop("result") in ("VK_SUCCESS", "VK_NOT_READY")
    return kept


@pytest.mark.vulkan
@pytest.mark.parametrize("args", [("--phase", "fence"), ("--phase", "map"), ("--watch", "0.01", "--rounds", "2")],
                         ids=["fence", "map", "watch"])
def test_the_same_events_as_program_py_on_lavapipe(guest_probe, lavapipe_env, args):
    python, guest = run_both(guest_probe, *args, "--deadline", "10", env=lavapipe_env)
    assert python.returncode == guest.returncode == 0, (python.stderr, guest.stderr)
    guest_events = events(guest)
    assert [shape(e) for e in guest_events] == [shape(e) for e in events(python)]
    phases = [e for e in guest_events if e["ev"] == "phase"]
    assert phases and all(e["outcome"] == "passed" for e in phases)
    assert all(int(e["handle"], 16) > 0x10000 for e in guest_events if "handle" in e)
    rates = [e for e in guest_events if e.get("name") == "poll_rate"]
    assert all(rate["polls_per_s"] > 0 and rate["bare_polls_per_s"] > 0 for rate in rates)
    if "--watch" in args:
        assert [e["phase"] for e in guest_events if e["ev"] == "sample"] == ["fence", "fence", "map", "map"]


@pytest.mark.parametrize("args", [("--bogus", "x"), ("--phase", "nonsense"), ("--phase", ",,"), ("--deadline", "abc"),
                                  ("--rounds", "1.5"), ("--phase",), ("--phase", "fence", "--", "--phase"),
                                  ("--help=1",)])
def test_a_bad_argument_is_one_line_and_exit_2_as_in_program_py(guest_probe, args):
    python, guest = run_both(guest_probe, *args)
    assert python.returncode == guest.returncode == 2
    assert guest.stderr == python.stderr and guest.stderr.count("\n") == 1 and guest.stdout == ""


def test_help_is_program_py_s(guest_probe):
    python, guest = run_both(guest_probe, "--help")
    assert python.returncode == guest.returncode == 0 and guest.stdout == python.stdout


@pytest.mark.parametrize("variable, value", [("VENUSTUI_VULKAN_LOADER", "/nonexistent/libvulkan.so.1"),
                                             ("VK_DRIVER_FILES", "/nonexistent/icd.json")])
def test_setup_errors_are_program_py_s(guest_probe, variable, value):
    python, guest = run_both(guest_probe, "--phase", "fence", env={**os.environ, variable: value})
    assert python.returncode == guest.returncode == 3
    assert guest.stderr == python.stderr and guest.stderr.count("\n") == 1
    guest_events = events(guest)
    assert [shape(e) for e in guest_events] == [shape(e) for e in events(python)]
    assert guest_events[-1]["ev"] == "error" and value in guest_events[-1]["message"]


@pytest.mark.vulkan
def test_a_driver_the_loader_drops_fails_at_instance_as_in_program_py(guest_probe, lavapipe_env, tmp_path):
    manifest = tmp_path / "missing_driver_icd.json"
    manifest.write_text(json.dumps({"file_format_version": "1.0.0",
                                    "ICD": {"library_path": str(tmp_path / "absent.so"), "api_version": "1.3.0"}}))
    env = {**lavapipe_env, "VK_DRIVER_FILES": str(manifest)}
    python, guest = run_both(guest_probe, "--phase", "map,fence", env=env)
    assert python.returncode == guest.returncode == 3 and guest.stderr == python.stderr
    assert [shape(e) for e in events(guest)] == [shape(e) for e in events(python)]
    assert "VK_ERROR_INCOMPATIBLE_DRIVER" in guest.stdout


@pytest.mark.vulkan
def test_the_runner_reads_the_c_probe_as_it_reads_program_py(guest_probe, lavapipe_env):
    runner = Runner(deadline=20, driver_files=lavapipe_env["VK_DRIVER_FILES"])
    target = Target("guest-probe", (guest_probe,), probe=True, phases=("fence", "map"))
    for phase in target.phases:
        record = runner.run(target, phase=phase)
        assert record.outcome.status == PASSED, record.outcome.text()
