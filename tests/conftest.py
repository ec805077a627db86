"""Shared fixtures: where the captured and synthetic logs live, and helpers to wait on conditions."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SEED = DATA / "seed"
SYNTHETIC = DATA / "synthetic"


# Real captures from the lab (copied from shared/fixtures/lab-lavapipe with their MANIFEST).
LAB = DATA / "lab-lavapipe"


@pytest.fixture
def lab_fixture() -> Path:
    return LAB


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.02):
    """Wait for a condition with a generous timeout; never asserts how long it took."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    value = predicate()
    assert value, "condition not met in time"
    return value


def run_cli(*args: str, input: bytes | None = None, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "venustui", *args], input=input, capture_output=True,
                          timeout=timeout, cwd=ROOT, **kwargs)
