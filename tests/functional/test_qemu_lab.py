"""The QEMU lab: a real guest (Debian's kernel, virtio-gpu with Venus over hostmem) under TCG on this machine,
booted once for the module and run several times; and nothing of it outlives a killed venustui."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from venustui import events as ev
from venustui.diagnose import diagnose
from venustui.flags import FlagSet
from venustui.lab import Lab
from venustui.probe.runner import PASSED, PROBE, Runner
from venustui.session import Session

from ..conftest import ROOT, wait_for
from ..conftest import pids_with as processes_with

pytestmark = pytest.mark.lab


class Pumped:
    """A session whose lines are also kept by source, as text, for the tests to read."""

    def __init__(self, session: Session):
        self.session = session
        self.lines: dict[str, list[str]] = {}
        self.notices: list[tuple[str, str]] = []

    def pump(self, rounds: int = 10) -> dict[str, list[str]]:
        for _ in range(rounds):
            for event, _ in self.session.pump(0.1):
                if isinstance(event, ev.Chunk):
                    text = bytes(event.data).decode(errors="replace").splitlines()
                    self.lines.setdefault(event.source, []).extend(text)
                elif isinstance(event, ev.Notice):
                    self.notices.append((event.source, event.message))
        return self.lines

    @property
    def model(self):
        return self.session.model


# A run under TCG takes 1-5 s; with the whole suite loading both cores one took over 8 s and was called hung, and
# with other work beside the suite one took over 30 s.
RUN_DEADLINE = 60


@pytest.fixture(scope="module")
def guest(lab_pairs):
    root, pairs = lab_pairs
    name = uuid.uuid4().hex[:8]
    lab = Lab(name, root=root, runtime=Path(f"/tmp/venustui-q-{name}"), pair=pairs["trixie"], vmm="qemu")
    session = Session([], follow=False)
    lab.start(session.hub)
    session.act("lab", **lab.identity())
    runner = Runner(session.hub, deadline=RUN_DEADLINE, grace=0.5, **lab.runner_options())
    try:
        yield lab, Pumped(session), runner
    finally:
        lab.stop()


def test_fences_signal_through_the_feedback_path(guest):
    """Over QEMU's hostmem the guest maps host-visible memory: the fence signals with the defaults (the feedback
    slot read with no host call), with no_fence_feedback too, and the map phase passes."""
    lab, session, runner = guest
    default = runner.run(PROBE, FlagSet(), "fence")
    flagged = runner.run(PROBE, FlagSet(perf=("no_fence_feedback",)), "fence")
    mapped = runner.run(PROBE, FlagSet(), "map")
    assert default.outcome.status == PASSED and default.perf_mask == 0
    assert flagged.outcome.status == PASSED and flagged.perf_mask == 0x10
    assert mapped.outcome.status == PASSED
    assert default.argv[:3] == [sys.executable, "-m", "venustui.guest_client"] and "/bin/venus-probe" in default.argv
    assert "--env=VN_PERF=no_fence_feedback" in flagged.argv
    session.pump()
    model = session.model
    fence = [t for t in model.targets.values() if t.phase == "fence"]
    assert any(m.get("name") == "polls_until_signaled" and m.get("signaled") for t in fence for m in t.metrics)
    found = diagnose(model)
    assert all("qemu" in f.details.get("ran on", "") for f in found)


def test_sources_as_a_user_has_them(guest):
    """The guest kernel's console (a serial source) shows the Venus capset; the host source is QEMU's stderr."""
    lab, session, runner = guest
    runner.run(PROBE, FlagSet(), "fence")
    def seen(source: str, *words: str) -> bool:
        return any(all(w in t for w in words) for t in session.pump(1).get(source, []))

    wait_for(lambda: seen("console", "cap set", "id 4"), timeout=20)
    lines = session.lines
    # The host source is QEMU's stderr (the render server's vkr: lines come there when it has something to say).
    assert any(source == "host" and message.startswith("started") for source, message in session.notices)
    assert "qemu-system-x86_64" in " ".join(lab.source.argv)
    assert any("venustui-init: guest up" in text for text in lines["console"])
    assert any("MESA-VIRTIO" in text for text in lines["guest"])  # the guest program's stderr, through the agent
    assert lab.health() is None


def test_a_rerun_needs_no_reboot(guest):
    lab, session, runner = guest
    pid = lab.running_pid()
    for _ in range(3):
        assert runner.run(PROBE, FlagSet(), "fence").outcome.status == PASSED
    assert lab.running_pid() == pid


def test_a_guest_that_stops_answering_is_reset(guest):
    """The agent stopped (its own child sends it SIGSTOP): the next run's ping goes unanswered, the client resets
    the guest through QEMU's monitor, and the run goes on once the agent answers again. Runs last: it reboots."""
    lab, session, runner = guest
    stuck = subprocess.Popen(lab.vm.launch(["/bin/busybox", "sh", "-c", "kill -STOP $PPID; sleep 1"], {}),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    with pytest.raises(subprocess.TimeoutExpired):
        stuck.wait(5)  # no exit status ever comes from a stopped agent
    stuck.kill()
    stuck.wait()
    runner.deadline = 90  # the reset guest boots again before the run starts
    try:
        record = runner.run(PROBE, FlagSet(), "fence")
    finally:
        runner.deadline = RUN_DEADLINE
    assert record.outcome.status == PASSED, (record.outcome.text(), record.stderr_tail)
    assert any("resetting the guest" in line for line in record.stderr_tail)


def test_nothing_survives_a_killed_venustui(lab_pairs, tmp_path):
    """venustui killed with SIGKILL while the guest runs: QEMU and its render server go within seconds."""
    root, pairs = lab_pairs
    runtime = tmp_path / "rt"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from venustui.lab import Lab
        from venustui.session import Session
        lab = Lab("kill", root=Path({str(root)!r}), runtime=Path({str(runtime)!r}), pair={pairs['trixie'].id!r},
                  vmm="qemu")
        session = Session([], follow=False)
        lab.start(session.hub)
        print("booted", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "booted"
        assert processes_with(str(runtime / "agent.sock"))  # QEMU runs, named by its sockets
        assert processes_with("virgl_render_server")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_for(lambda: not processes_with(str(runtime / "agent.sock")), timeout=15)
        wait_for(lambda: not [p for p in processes_with("virgl_render_server") if _in_runtime(p, runtime)],
                 timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()


def _in_runtime(pid: int, runtime: Path) -> bool:
    """A render server of that QEMU: it inherits QEMU's cache folder in its environment."""
    try:
        return str(runtime).encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


def test_lab_up_and_down_from_the_command_line(lab_pairs, tmp_path):
    from ..conftest import run_cli

    root, _ = lab_pairs
    env = {**os.environ, "VENUSTUI_LAB_DIR": str(root), "XDG_RUNTIME_DIR": str(tmp_path)}
    name = uuid.uuid4().hex[:8]
    up = run_cli("lab", "--name", name, "up", env=env, timeout=120)
    assert up.returncode == 0, up.stderr
    assert b"QEMU (TCG)" in up.stdout and b"venustui.guest_client" in up.stdout
    status = run_cli("lab", "--name", name, "status", env=env)
    assert b"(qemu), pid" in status.stdout
    console = tmp_path / "venustui" / f"lab-{name}" / "console.log"
    wait_for(lambda: console.exists() and b"cap set" in console.read_bytes(), timeout=30)
    down = run_cli("lab", "--name", name, "down", env=env)
    assert down.returncode == 0 and b"stopped" in down.stdout
    assert not processes_with(f"lab-{name}/agent.sock")
