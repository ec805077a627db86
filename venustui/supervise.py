"""``python -m venustui.supervise -- ARGV…``: run ARGV and take its whole process group down when venustui dies.

The lab's VMM (QEMU and the render server it forks) must not outlive venustui, even when venustui is killed
with SIGKILL and runs no clean-up. The supervisor is started as a process group leader; ARGV stays in that
group. It watches its parent: when the parent is gone (re-parented), it SIGKILLs the group, itself included.
A parent-death signal (PR_SET_PDEATHSIG) would not do: it fires when the *thread* that started the process
ends, and venustui starts the lab from worker threads too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

POLL_SECONDS = 0.2


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m venustui.supervise -- PROGRAM [ARG…]", file=sys.stderr)
        return 2
    parent = os.getppid()
    try:
        child = subprocess.Popen(argv)
    except OSError as exc:
        print(f"venustui.supervise: cannot run {argv[0]}: {exc.strerror}", file=sys.stderr)
        return 127
    # SIGTERM to the group reaches the child directly; the supervisor leaves when the child does.
    signal.signal(signal.SIGTERM, lambda *_: None)
    while child.poll() is None:
        if os.getppid() != parent:
            if os.getpgid(0) == os.getpid():  # a group of our own: the child and what it forked
                os.killpg(os.getpid(), signal.SIGKILL)
            child.kill()
            return 137
        time.sleep(POLL_SECONDS)
    code = child.returncode
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
