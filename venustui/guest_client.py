"""The host's end of the QEMU lab's guest agent, as a program: ``python -m venustui.guest_client --socket PATH
[--env K=V]… -- ARGV…`` runs ARGV in the guest and behaves like it ran here: the guest program's stdout
and stderr lines come out on this process's stdout and stderr, and its exit status is this one's. So the
runner (deadline, SIGTERM/SIGKILL, events) treats a guest run like any other process. Protocol:
venustui/probe/agent.c. A guest whose agent does not answer a ping is reset through QEMU's monitor (QMP)
and the run goes on once the agent answers again.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import time

PING_SECONDS = 5.0
RESET_SECONDS = 60.0  # a reset guest boots again under TCG
NO_AGENT = 70  # exit status: the agent could not be reached, even after a reset


class Agent:
    def __init__(self, path: str):
        self.path = path
        self.sock: socket.socket | None = None
        self.pending = b""

    def connect(self, timeout: float) -> None:
        """QEMU's chardev serves one client at a time: retry while the previous one is going."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.path)
                self.sock = sock
                return
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def send(self, *fields: str) -> None:
        assert self.sock is not None
        self.sock.sendall("\t".join(fields).encode() + b"\n")

    def lines(self, timeout: float | None):
        """Yield (kind, rest) until the socket closes; None when timeout passes without a line."""
        assert self.sock is not None
        self.sock.settimeout(timeout)
        while True:
            while b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                kind, _, rest = line.partition(b"\t")
                yield kind.decode(errors="replace"), rest
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                yield None, b""
                continue
            if not data:
                return
            self.pending += data

    def reconnected(self) -> bool:
        """A fresh connection whose agent answers a ping (False while the guest is still booting)."""
        if self.sock is not None:
            self.sock.close()
        self.sock, self.pending = None, b""
        try:
            self.connect(5.0)
            return self.ping(2.0)
        except OSError:
            return False

    def ping(self, timeout: float) -> bool:
        token = f"{os.getpid()}-{time.monotonic_ns()}"
        self.send("PING", token)
        deadline = time.monotonic() + timeout
        for kind, rest in self.lines(0.2):
            if kind == "PONG" and rest.decode(errors="replace") == token:
                return True
            if time.monotonic() > deadline:
                return False
        return False


def reset_guest(qmp_path: str) -> None:
    """system_reset through QMP: the guest boots again, and the agent with it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(qmp_path)
    reader = sock.makefile("rb")
    reader.readline()  # the greeting
    for command in ({"execute": "qmp_capabilities"}, {"execute": "system_reset"}):
        sock.sendall(json.dumps(command).encode() + b"\n")
        reader.readline()
    sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="venustui.guest_client")
    parser.add_argument("--socket", required=True, help="the agent's virtio-serial chardev socket")
    parser.add_argument("--qmp", help="QEMU's QMP socket, to reset a guest that stops answering")
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds the guest lets the program run")
    parser.add_argument("--env", action="append", default=[], metavar="K=V")
    parser.add_argument("argv", nargs="+")
    args = parser.parse_args(argv)
    fields = [*args.env, *args.argv]
    if any("\t" in f or "\n" in f for f in fields):
        print("venustui.guest_client: a tab or newline in an argument or variable cannot cross to the guest",
              file=sys.stderr)
        return 2
    agent = Agent(args.socket)
    try:
        agent.connect(10.0)
        if not agent.ping(PING_SECONDS):
            if not args.qmp:
                raise OSError("the guest agent did not answer a ping")
            print(f"venustui.guest_client: the guest agent did not answer a ping in {PING_SECONDS:g} s; "
                  "resetting the guest", file=sys.stderr, flush=True)
            reset_guest(args.qmp)
            deadline = time.monotonic() + RESET_SECONDS
            while not agent.reconnected():  # QEMU drops the connection when the guest's port closes
                if time.monotonic() > deadline:
                    raise OSError(f"the guest agent did not come back within {RESET_SECONDS:g} s of a reset")
                time.sleep(0.5)
    except OSError as exc:
        print(f"venustui.guest_client: {exc} ({args.socket})", file=sys.stderr)
        return NO_AGENT
    run_id = str(os.getpid())

    def stop(signum, _frame):  # the runner gave up on the run: the guest ends it too
        try:
            agent.send("KILL", run_id)
        finally:
            os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.send("RUN", run_id, f"{args.deadline:g}", str(len(args.env)), *fields)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    for kind, rest in agent.lines(None):
        if kind not in ("O", "E", "X"):
            continue
        got, _, text = rest.partition(b"\t")
        if got.decode(errors="replace") != run_id:
            continue
        if kind == "X":
            status, _, why = text.decode(errors="replace").partition("\t")
            if why:
                print(f"venustui.guest_client: {why}", file=sys.stderr, flush=True)
            code = int(status)
            if code < 0:  # end the way the guest program ended, so the runner reads the same signal
                if -code not in (signal.SIGKILL, signal.SIGSTOP):
                    signal.signal(-code, signal.SIG_DFL)
                os.kill(os.getpid(), -code)
            return code
        stream = out if kind == "O" else err
        stream.write(text + b"\n")
        stream.flush()
    print("venustui.guest_client: the guest agent went away mid-run (QEMU stopped?)", file=sys.stderr)
    return NO_AGENT


if __name__ == "__main__":
    sys.exit(main())
