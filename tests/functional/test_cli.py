"""The commands as a user runs them: acceptance stories and bad input, one line and no traceback."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

import pytest

from ..conftest import ROOT, SEED, run_cli


def test_decode_ranks_and_explains():
    out = run_cli("decode", "0x50000000005")
    text = out.stdout.decode()
    assert out.returncode == 0
    first = text.splitlines()[1]
    assert first.startswith("1. validation-layer unique id 5")
    out = run_cli("decode", "0xb5f080000", "--json")
    data = json.loads(out.stdout)
    assert data["layouts"][0]["layout"] == "pointer"


def test_decode_provenance_across_runs():
    out = run_cli("decode", "0x50000000005", "--json", "--log", str(SEED / "host.log"),
                  "--log", str(SEED / "host-no_fence_feedback.log"), "--log", str(SEED / "guest.log"))
    seen = json.loads(out.stdout)["seen"]
    assert seen["count"] == 2 and seen["devices"] == ["0xa810d6818"] and "fence" in seen["roles"]
    assert seen["hits"][0]["file"].endswith("host.log") and seen["hits"][0]["line"] == 2


def test_watch_seed_story():
    out = run_cli("watch", "--no-follow", str(SEED / "host.log"), str(SEED / "guest.log"))
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    fence = next(l for l in text.splitlines() if "0x50000000005" in l and "created" in l and "→" in l)
    assert "created VK_SUCCESS" in fence and "submitted VK_SUCCESS" in fence
    assert "1 NOT_READY" in fence and "wait VK_TIMEOUT" in fence and "TIMEOUT" in fence.split("→")[-1]
    assert "stuck in ring seqno wait" in text


def test_watch_shows_an_envelope_once(tmp_path):
    """Each line's program and clock compactly before what it means, and the envelope not again after them."""
    log = tmp_path / "journal.log"  # real-threads-extra/39's shape: a journald line whose kind has no message field
    log.write_text("Jul 22 19:16:56 btwarch virgl_test_server[40755]: vtest_client_dispatch_commands: client context "
                   "created.\n2025-02-18 07:08:52,277: MESA-VIRTIO: debug: stuck in fence wait with iter at 1024\n"
                   "4321@1700000000.100000:virtio_gpu_fence_ctrl fence 0x51, type 0x207\n")  # synthetic QEMU trace
    rows = run_cli("watch", "--no-follow", str(log)).stdout.decode().splitlines()
    created = next(r for r in rows if "vtest/context_created" in r)
    assert created.endswith("virgl_test_server[40755] 19:16:56 · vtest_client_dispatch_commands: client context created.")
    stuck = next(r for r in rows if "mesa/stuck_wait" in r)
    assert stuck.endswith("07:08:52,277 · stuck in fence wait (iter 1024)")
    trace = next(r for r in rows if "virtio_gpu_fence_ctrl" in r)  # seconds since the epoch: the UTC time of day
    assert "qemu[4321] 22:13:20.100000 · " in trace


def test_watch_lab_story(lab_fixture):
    files = [str(lab_fixture / f) for f in ("guest-fence-default.log", "guest-fence-no_fence_feedback.log",
                                            "host.log")]
    out = run_cli("watch", "--no-follow", *files)
    text = out.stdout.decode()
    runs = [l for l in text.splitlines() if l.strip().startswith("run ")]
    assert "last step 4 Queue OK; no output after it" in runs[0]
    assert "perf=0x10 (no_fence_feedback)" in runs[1]
    assert "virgl_renderer_resource_export_blob failed -22 (EINVAL)" in text


def test_markup_and_escapes_show_literally(tmp_path):
    log = tmp_path / "hostile.log"
    log.write_bytes(b"[bold]x[/] [/] [red]boom\n\x1b]0;pwned\x07\x1b[2Jclear\x00nul \xff\n")
    out = run_cli("watch", "--no-follow", str(log))
    assert out.returncode == 0, out.stderr
    assert b"[bold]x[/] [/] [red]boom" in out.stdout
    assert b"\x1b" not in out.stdout and b"\x07" not in out.stdout and b"\x00" not in out.stdout
    assert b"clear\\0nul \xef\xbf\xbd" in out.stdout


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.log", "no such file"),
    (lambda d: d, "is a directory"),
])
def test_bad_sources_are_one_line(tmp_path, make, message):
    out = run_cli("watch", "--no-follow", str(make(tmp_path)))
    err = out.stderr.decode()
    assert out.returncode == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_unreadable_file_as_an_unprivileged_user():
    """CI runs as root, who reads anything: the check runs after dropping to 'nobody' in a subprocess."""
    folder = tempfile.mkdtemp(prefix="venustui-perm-")
    try:
        os.chmod(folder, 0o755)
        secret = os.path.join(folder, "secret.log")
        with open(secret, "w") as f:
            f.write("x\n")
        os.chmod(secret, 0o000)
        drop = ""
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            # Import first (the interpreter may live under /root), then give up root.
            drop = f"os.setgroups([]); os.setgid({nobody.pw_gid}); os.setuid({nobody.pw_uid}); "
        code = ("import os, sys; from venustui.cli import main; " + drop +
                f"sys.exit(main(['watch', '--no-follow', {secret!r}]))")
        env = {**os.environ, "XDG_CONFIG_HOME": folder}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60, env=env)
        err = out.stderr.decode()
        assert out.returncode == 2, (out.stdout, err)
        assert "permission denied" in err and err.count("\n") == 1 and "Traceback" not in err
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_no_sources_and_no_command():
    out = run_cli("watch", env={**os.environ, "XDG_CONFIG_HOME": tempfile.mkdtemp()})
    assert out.returncode == 2 and b"no sources" in out.stderr
    bare = {**os.environ, "XDG_CONFIG_HOME": tempfile.mkdtemp(), "XDG_CACHE_HOME": tempfile.mkdtemp()}
    no_lab = run_cli(env=bare)
    assert no_lab.returncode == 2 and b"no sources and no lab" in no_lab.stderr
    piped = run_cli(str(SEED / "host.log"), env=bare)
    assert piped.returncode == 2 and b"needs a terminal" in piped.stderr and b"Traceback" not in piped.stderr
    bad = run_cli("decode", "fence")
    assert bad.returncode == 2 and b"not a handle value" in bad.stderr


def test_sessions_list_open_and_prune(tmp_path):
    """The TUI's recorded sessions (journals recorded here, in a state folder of the test's own)."""
    import os

    state = tmp_path / "state"
    folder = state / "venustui" / "sessions"
    folder.mkdir(parents=True)
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    for name in ("20261126-100000.vtj", "20261126-110000.vtj", "20261126-120000.vtj"):
        out = run_cli("record", "--no-follow", "-o", str(folder / name), str(SEED / "guest.log"), env=env)
        assert out.returncode == 0, out.stderr
    listed = run_cli("sessions", "list", env=env).stdout.decode().splitlines()
    assert [line.split()[1] for line in listed] == ["20261126-120000.vtj", "20261126-110000.vtj",
                                                     "20261126-100000.vtj"]
    bad = run_cli("sessions", "open", "9", env=env)
    assert bad.returncode == 2 and b"there are 3 recorded session(s)" in bad.stderr and b"Traceback" not in bad.stderr
    pruned = run_cli("sessions", "prune", "--keep", "1", env=env)
    assert pruned.returncode == 0 and b"removed 2 session(s)" in pruned.stdout
    assert [p.name for p in folder.iterdir()] == ["20261126-120000.vtj"]


def test_a_long_log_s_summary_shows_the_ends_of_its_lists(tmp_path):
    """The lab's captures repeated (a poll loop's thousands of runs and fences): the summary prints the first and last
    ten of each list and how many between, and a finding's first six evidence lines and how many more."""
    captures = sorted(SEED.glob("*.log")) + sorted((ROOT / "tests" / "data" / "lab-lavapipe").glob("*.log"))
    log = tmp_path / "long.log"
    log.write_bytes(b"".join(path.read_bytes() for path in captures) * 300)  # (bench/hostile.py's input, shorter)
    out = run_cli("watch", "--no-follow", "-q", str(log), timeout=120).stdout.decode()
    runs = int(out.split("Runs (", 1)[1].split(")", 1)[0])
    assert runs > 21 and f"… {runs - 20:,} more runs (venustui report lists every one)" in out
    assert f"  run {runs}  " in out and "  run 11  " not in out
    more = [line for line in out.splitlines() if "more lines of evidence" in line]
    assert more and all(line.startswith("    … and ") for line in more)
