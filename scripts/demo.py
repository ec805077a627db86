"""`make demo` (until the lab lands): `venustui watch` following logs that grow as they did in the lab.

The lab captures (tests/data/lab-lavapipe, real output) are written line by line into a
fresh folder, run after run, with the host's lines between them, while `venustui watch`
follows both files live and prints its summary once they go quiet.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from venustui.cli import main

LAB = Path(__file__).resolve().parent.parent / "tests" / "data" / "lab-lavapipe"
# (guest capture, how many host.log lines belong after it), in the order the MANIFEST gives.
RUNS = (("guest-fence-default.log", 5), ("guest-fence-no_fence_feedback.log", 5), ("guest-map-no_fence_feedback.log", 4))


def feed(folder: Path, pace: float) -> None:
    host_lines = (LAB / "host.log").read_bytes().splitlines(keepends=True)
    with open(folder / "host.log", "ab", buffering=0) as host, open(folder / "guest.log", "ab", buffering=0) as guest:
        for name, host_count in RUNS:
            for raw in (LAB / name).read_bytes().splitlines(keepends=True):
                guest.write(raw)
                time.sleep(pace)
            for raw in host_lines[:host_count]:
                host.write(raw)
                time.sleep(pace)
            del host_lines[:host_count]
            time.sleep(pace * 5)


def run() -> int:
    folder = Path(tempfile.mkdtemp(prefix="venustui-demo-"))
    (folder / "host.log").touch()
    (folder / "guest.log").touch()
    print(f"venustui demo: replaying the lab captures into {folder} and following them live (Ctrl-C ends)\n",
          flush=True)
    writer = threading.Thread(target=feed, args=(folder, 0.08), daemon=True)
    writer.start()
    return main(["watch", "--idle-exit", "3", f"host={folder / 'host.log'}", f"guest={folder / 'guest.log'}"])


if __name__ == "__main__":
    sys.exit(run())
