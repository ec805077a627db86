"""Shared fixtures: where the captured and synthetic logs live, and helpers to wait on conditions."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from venustui import events as ev

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SEED = DATA / "seed"
SYNTHETIC = DATA / "synthetic"


# Real captures from the lab (copied from shared/fixtures/lab-lavapipe with their MANIFEST).
LAB = DATA / "lab-lavapipe"


@pytest.fixture
def lab_fixture() -> Path:
    return LAB


@pytest.fixture(scope="session")
def lab_pairs():
    """The lab's test root with the two pairs CI runs: trixie's (25.0x1.1) and the newest sid serves
    (26.2x1.3 when this was written). Kept between runs: an installed pair is not installed again."""
    if not Path("/etc/debian_version").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("the lab needs Debian; CI runs on Debian")
        pytest.skip("not Debian")
    from venustui.lab import Lab, default_root
    from venustui.lab_install import DEFAULT_PAIR, Pair

    root = default_root().parent / "lab-test"
    newest = Lab(root=root).newest_pair()
    Lab(root=root).install([Pair(*DEFAULT_PAIR), newest], progress=lambda line: None)
    return root, {"trixie": Pair(*DEFAULT_PAIR), "newest": newest}


@pytest.fixture(scope="session")
def lab_root(lab_pairs):
    return lab_pairs[0]


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


class Collect:
    """A sink that keeps everything (the Hub's put interface)."""

    def __init__(self):
        self.events: list = []
        self.lock = threading.Lock()

    def put(self, batch):
        with self.lock:
            self.events.extend(batch)

    def lines(self, source=None):
        with self.lock:
            chunks = [e for e in self.events if isinstance(e, ev.Chunk) and (source is None or e.source == source)]
        return [line for chunk in chunks for line in chunk.lines()]

    def notices(self, kind=None):
        with self.lock:
            return [e for e in self.events if isinstance(e, ev.Notice) and (kind is None or e.kind == kind)]


def fed_in_pieces(split, data: bytes, cuts) -> list:
    """What a ChunkSplitter makes of data fed in pieces of the given sizes (the rest at once), then flushed."""
    chunks, pos = [], 0
    for cut in cuts:
        chunks += split.feed(data[pos:pos + cut])
        pos += cut
    return chunks + split.feed(data[pos:]) + split.flush()


def pids_with(marker: str) -> list[int]:
    """Live processes whose command line holds marker (to check that a run left nothing behind). A test
    helper on Linux's /proc (venustui itself needs none): where /proc is empty it finds none."""
    from venustui.sources.stream import process_alive

    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() not in f.read():
                    continue
        except OSError:
            continue
        if process_alive(int(entry)):
            found.append(int(entry))
    return found
