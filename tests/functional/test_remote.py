"""The README's flagship remote source, for real: `guest=cmd:ssh … tail -n 0 -F FILE` against a real sshd on a
loopback port (a throwaway host key and client key in a temporary config), following a growing file on the
"guest", through the connection dropping (sshd killed) and coming back (sshd started again)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest

from venustui.session import Session
from venustui.sources import parse_spec

from ..conftest import pids_with, wait_for

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """Processes below pid (a test helper on Linux's /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        out += children
        frontier = children
    return out


class Sshd:
    def __init__(self, folder):
        self.folder = folder
        self.port = _free_port()
        for name in ("host", "client"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
        (folder / "authorized_keys").write_text((folder / "client.pub").read_text())
        os.chmod(folder / "authorized_keys", 0o600)
        (folder / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host'}\nPidFile {folder / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n")
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation folder
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.folder / "sshd_config")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        wait_for(lambda: self._listening(), timeout=20)

    def _listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        """Kill the daemon and every connection it serves (each in a session of its own): connections drop."""
        if self.proc is not None and self.proc.poll() is None:
            for pid in [*_descendants(self.proc.pid), self.proc.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait()

    def ssh(self, *command: str) -> str:
        options = ["-F", "none", "-i", str(self.folder / "client"), "-p", str(self.port), "-o", "BatchMode=yes",
                   "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                   "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2", "127.0.0.1", *command]
        return " ".join(["ssh", *options])


@pytest.fixture
def sshd(tmp_path):
    if os.geteuid() != 0 or not os.path.exists(SSHD):
        if os.environ.get("CI") == "true":
            pytest.fail("the ssh test needs root and openssh-server (make test installs it)")
        pytest.skip("needs root and openssh-server")
    server = Sshd(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_cmd_ssh_source_follows_a_growing_file_through_a_dropped_connection(sshd, tmp_path):
    marker = f"venustui-remote-{uuid.uuid4().hex}"
    remote = tmp_path / f"{marker}.log"
    remote.write_text("")
    spec = parse_spec(f"guest=cmd:{sshd.ssh('tail', '-n', '0', '-F', str(remote))}")
    session = Session([spec], follow=True, poll_interval=0.05)
    session.start()
    seen: list[bytes] = []
    notices = []

    def pump() -> None:
        for event, _ in session.pump(0.05):
            if hasattr(event, "data"):
                seen.extend(event.data.splitlines())
            elif event.__class__.__name__ == "Notice":
                notices.append(event)

    def appear(line: bytes) -> bool:
        pump()
        return line in seen

    try:
        def write(text: str) -> None:
            with open(remote, "a") as f:
                f.write(text + "\n")

        wait_for(lambda: pump() or any(n.kind == "opened" for n in notices), timeout=20)
        time.sleep(1.0)  # tail -F has opened the file on the guest
        write("MESA-VIRTIO: debug: before the drop")
        wait_for(lambda: appear(b"MESA-VIRTIO: debug: before the drop"), timeout=20)
        sshd.stop()  # the connection drops: ssh exits with 255, the source restarts with a back-off
        wait_for(lambda: pump() or any(n.kind == "exited" and "restart_in" in n.detail for n in notices), timeout=20)
        sshd.start()
        wait_for(lambda: pump() or sum(n.kind == "opened" for n in notices) >= 2, timeout=60)
        time.sleep(1.5)
        write("MESA-VIRTIO: debug: after it came back")
        wait_for(lambda: appear(b"MESA-VIRTIO: debug: after it came back"), timeout=30)
        assert "restarting in" in next(n.message for n in notices if n.kind == "exited")
        state = session.model.source_state["guest"]
        assert state.kind == "opened"  # the TUI's status line says "down" only while it is
    finally:
        session.stop()
        for pid in pids_with(marker):  # the remote tails sshd left behind when it was killed
            os.kill(pid, signal.SIGKILL)
