"""What a macOS host needs, proven on Linux: the sources, the runner and replay work where /proc is empty (a
mount namespace with a bare tmpfs on /proc), and Linux-only calls appear only in the modules that are
Linux-side by nature (the lab, the probe's driver inspection, ELF), each saying so."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from ..conftest import ROOT

# Calls and paths that exist on Linux alone.
LINUX_ONLY = re.compile(r'"/proc|/proc/|get_context\("fork"\)|os\.fork\(|os\.sched_|prctl|/sys/(?:class|bus|devices)|ldconfig|'
                        r'F_SETPIPE_SZ|mallopt|"fork"')
# The modules allowed to use them, and why (the README's "What works on macOS" says the same).
LINUX_SIDE = {
    "venustui/elf.py": "ELF inspection of Linux drivers (a /proc/PID/maps hint in a message)",
    "venustui/sources/stream.py": "another parent's zombie is told only by /proc; without it kill(0) decides",
    "venustui/loader.py": "the Linux Vulkan loader's search (ldconfig's cache)",
    "venustui/lab_scenarios.py": "the lab's render server found by its session in /proc (the lab runs on Debian only)",
    "venustui/tuning.py": "glibc's malloc tuning, skipped elsewhere",
    "venustui/readahead.py": "the replay's helper is a fork on Linux only (sys.platform checked)",
    "venustui/index.py": "a whole file is indexed by forked processes on Linux only (threads elsewhere)",
}


def test_linux_only_calls_stay_in_the_linux_side_modules():
    found = {}
    for path in sorted((ROOT / "venustui").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        hits = {m.group() for m in LINUX_ONLY.finditer(path.read_text())}
        if hits and name not in LINUX_SIDE:
            found[name] = sorted(hits)
    assert not found, found
    for name in LINUX_SIDE:  # the list stays true: each still needs its exception
        assert LINUX_ONLY.search((ROOT / name).read_text()), name


def _can_unshare() -> str | None:
    if os.geteuid() != 0:
        return "needs root (CI runs as root)"
    if not shutil.which("unshare"):
        return "needs unshare (util-linux)"
    probe = subprocess.run(["unshare", "--mount", "--fork", "sh", "-c", "mount -t tmpfs none /proc && ls /proc"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0 or probe.stdout.strip():
        return f"cannot make a mount namespace with an empty /proc: {probe.stderr.strip()}"
    return None


@pytest.mark.timeout(900)
def test_sources_runner_and_replay_need_no_proc():
    why = _can_unshare()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    tests = ["tests/functional/test_stream.py", "tests/functional/test_tail.py", "tests/functional/test_journal.py",
             "tests/functional/test_probe.py"]
    script = ('mount -t tmpfs none /proc && test -z "$(ls /proc)" && exec "$0" -m pytest -q -p no:cacheprovider '
              '-p no:randomly "$@"')
    out = subprocess.run(["unshare", "--mount", "--fork", "sh", "-c", script, sys.executable, *tests],
                         cwd=ROOT, capture_output=True, text=True, timeout=840)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert re.search(r"\d+ passed", out.stdout) and "skipped" not in out.stdout.splitlines()[-1], out.stdout[-500:]
