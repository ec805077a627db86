"""The lab on this machine: install (private prefix, whatever the Debian), the story end to end, and its faults."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from venustui.diagnose import diagnose
from venustui.errors import UserError
from venustui.flags import FlagSet
from venustui.lab import SOCKET_MAX, Lab
from venustui.probe.runner import CRASHED, HUNG, PASSED, PROBE, Runner
from venustui.session import Session
from venustui.triage import triage

from ..conftest import ROOT, run_cli, wait_for
from ..conftest import pids_with as processes_with

pytestmark = pytest.mark.lab


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory):
    """One private-prefix install for the whole run (the Debian 13 apt path is the other way in)."""
    if not Path("/etc/debian_version").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("the lab needs Debian; CI runs on Debian")
        pytest.skip("not Debian")
    from venustui.lab import default_root

    # Kept between runs (idempotent install); a private prefix even on Debian 13.
    root = default_root().parent / "lab-test-private"
    Lab(root=root).install(private=True, progress=lambda line: None)
    return root


@pytest.fixture
def lab(lab_root, tmp_path):
    name = uuid.uuid4().hex[:8]
    lab = Lab(name, root=lab_root, runtime=Path(f"/tmp/venustui-test-{name}"))
    yield lab
    lab.stop()


def test_install_is_recorded_and_idempotent(lab_root):
    lab = Lab(root=lab_root)
    manifest = lab.manifest
    assert manifest["mode"] == "private"
    for name in ("virgl-server", "libvirglrenderer1", "mesa-vulkan-drivers"):
        assert manifest["packages"][name]["version"] and len(manifest["packages"][name]["sha256"]) == 64
    lines = []
    lab.install(progress=lines.append)
    assert "already installed" in lines[0]
    assert all(check.ok for check in lab.doctor() if check.part != "socket")


def test_the_story_end_to_end(lab):
    session = Session([], follow=False)
    ready = lab.start(session.hub)
    assert ready < 10
    runner = Runner(session.hub, deadline=4, grace=0.5, base_env=lab.guest_env(),
                    driver_files=lab.manifest["virtio_icd"], health=lab.health)
    result = triage(runner, PROBE, phase="fence")
    maps = [runner.run(PROBE, flags, "map") for flags in (FlagSet(), FlagSet(perf=result.smallest))]
    lab.stop()
    for _ in range(10):
        session.pump(0.1)
    assert result.runs[0].outcome.status == HUNG and result.runs[0].outcome.step == "fence"
    assert result.smallest == ("no_fence_feedback",) and result.runs[-1].outcome.status == PASSED
    assert result.runs[1].perf_mask == 0x10  # the guest's own vn_env says the flag took effect
    assert all(m.outcome.text() == "hung at map" for m in maps)
    found = {f.rule: f for f in diagnose(session.model)}
    assert found["feedback-ab"].claim.startswith("fence phase hangs in vkCreateFence with the defaults")
    assert "in every flag set tried (2 runs)" in found["cannot-map"].claim
    blob = found["blob-export"]
    assert "failed -22 (EINVAL)" in blob.claim and "hung at fence" in blob.claim
    assert any(e.source == "host" for e in blob.evidence)
    wait_for(lambda: not processes_with("venustui.probe.program --phase"), timeout=15)


def test_vkr_debug_all_shows_wrapped_handles_explained(lab):
    session = Session([], follow=False)
    lab.start(session.hub, vkr_debug=("all",))
    runner = Runner(session.hub, deadline=3, grace=0.5, base_env=lab.guest_env(),
                    driver_files=lab.manifest["virtio_icd"], health=lab.health)

    def wrapped():
        session.pump(0.1)
        return [h for h in session.model.handles.values()
                if "host" in h.sides and h.value >> 40 == h.value & 0xFFFFFFFFFF]

    # The map phase binds host-visible memory to a buffer, which the layer comments on with both handles. The
    # failed blob export drops the vtest client first, and on a busy machine the context can go before the ring
    # reaches the bind (2 runs in 12 under load here), so a few runs are allowed.
    for _ in range(5):
        runner.run(PROBE, FlagSet(perf=("no_fence_feedback",)), "map")
        if any(wrapped() for _ in range(10)):
            break
    assert wrapped(), "host validation messages carry layer-wrapped handles"
    lab.stop()
    finding = {f.rule: f for f in diagnose(session.model)}["validation-wrapped"]
    assert "validation layer's object id" in finding.claim and "not a driver handle" in finding.claim


def test_server_killed_mid_run_is_lost_not_hung(lab):
    session = Session([], follow=False)
    lab.start(session.hub)
    runner = Runner(session.hub, deadline=30, grace=0.5, base_env=lab.guest_env(),
                    driver_files=lab.manifest["virtio_icd"], health=lab.health)
    import threading

    def kill_soon():
        time.sleep(1.0)
        os.killpg(lab.server.pid, signal.SIGKILL)

    threading.Thread(target=kill_soon, daemon=True).start()
    record = runner.run(PROBE, FlagSet(), "fence")  # hangs in vkCreateFence until the server dies
    assert record.outcome.status == CRASHED and "lost the host" in record.outcome.text()
    assert record.seconds < 30


def test_faults_are_clear(lab, tmp_path):
    with pytest.raises(UserError, match="render server .* is missing"):
        lab.start(render_server=str(tmp_path / "no_render_server"))
    long = Lab("x", root=lab.root, runtime=Path("/tmp/" + "d" * (SOCKET_MAX - 10)))
    with pytest.raises(UserError, match="UNIX socket allows"):
        long.start()
    # An unwritable runtime folder, as a user without rights there (CI runs as root).
    locked = Path(tempfile.mkdtemp(prefix="venustui-locked-"))
    locked.chmod(0o755)
    drop = "os.setgroups([]); os.setgid(65534); os.setuid(65534); " if os.geteuid() == 0 else ""
    if not drop:
        locked.chmod(0o555)
    code = ("import os, sys\nfrom pathlib import Path\nfrom venustui.lab import Lab\nfrom venustui.errors import UserError\n"
            + drop.replace("; ", "\n") + "\n"
            f"try:\n    Lab('y', root=Path('/nonexistent'), runtime=Path({str(locked)!r}) / 'run').start()\n"
            "except UserError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "cannot create the lab's runtime folder" in out.stdout, (out.stdout, out.stderr)
    shutil.rmtree(locked, ignore_errors=True)
    gone = Lab("g", root=lab.root, runtime=tmp_path / "rt-g")
    manifest = dict(gone.manifest, server=str(tmp_path / "no_virgl_test_server"))
    copy = tmp_path / "copy-root"
    copy.mkdir()
    (copy / "lab.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="not installed|server .* is missing"):
        Lab("g", root=copy, runtime=tmp_path / "rt-g").start()
    broken = Lab("z", root=tmp_path / "empty", runtime=tmp_path / "rt")
    with pytest.raises(UserError, match="not installed"):
        broken.start()


def test_two_labs_and_a_crashed_session(lab, lab_root, tmp_path):
    lab.start()
    with pytest.raises(UserError, match="already running"):
        Lab(lab.name, root=lab_root, runtime=lab.runtime).start()
    other = Lab(uuid.uuid4().hex[:8], root=lab_root, runtime=Path(f"/tmp/venustui-test-{uuid.uuid4().hex[:8]}"))
    try:
        other.start()  # a second lab under another name runs beside the first
        assert other.running_pid() and lab.running_pid() and other.running_pid() != lab.running_pid()
    finally:
        other.stop()
    # A crashed session: started from the command line, the server killed, its files left behind.
    env = {**os.environ, "VENUSTUI_LAB_DIR": str(lab_root), "XDG_RUNTIME_DIR": str(tmp_path)}
    name = uuid.uuid4().hex[:8]
    assert run_cli("lab", "--name", name, "up", env=env).returncode == 0
    runtime = tmp_path / "venustui" / f"lab-{name}"
    pid = int((runtime / "server.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: not processes_with(str(runtime / "venus.sock")), timeout=10)
    assert (runtime / "venus.sock").exists() and (runtime / "server.pid").exists()
    doctor = run_cli("lab", "--name", name, "doctor", env=env)
    assert doctor.returncode == 1 and b"left by a crashed session" in doctor.stdout
    down = run_cli("lab", "--name", name, "down", env=env)
    assert down.returncode == 0 and b"removed" in down.stdout
    assert not (runtime / "venus.sock").exists() and not (runtime / "server.pid").exists()


def test_lab_up_down_status_cli(lab_root, tmp_path):
    env = {**os.environ, "VENUSTUI_LAB_DIR": str(lab_root), "XDG_RUNTIME_DIR": str(tmp_path)}
    name = uuid.uuid4().hex[:8]
    up = run_cli("lab", "--name", name, "up", env=env)
    assert up.returncode == 0, up.stderr
    assert b"VTEST_SOCKET_NAME=" in up.stdout
    status = run_cli("lab", "--name", name, "status", env=env)
    assert b"running, pid" in status.stdout
    again = run_cli("lab", "--name", name, "up", env=env)
    assert again.returncode == 2 and b"already running" in again.stderr
    down = run_cli("lab", "--name", name, "down", env=env)
    assert down.returncode == 0 and b"stopped" in down.stdout
    assert b"not running" in run_cli("lab", "--name", name, "status", env=env).stdout
