"""Run by test_journal in a fresh interpreter (a fork needs a process with one thread): a replay
folded by the helper process reaches the state a one-process replay reaches, also when the ring
is small enough to wrap and to make the helper wait, and when the helper stops half way."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import venustui.readahead as readahead
from venustui.journal import Journal
from venustui.session import Session, replay


def replayed(path: Path, helper: bool, until_seq: int | None = None) -> tuple[dict, int, int]:
    journal = Journal.open(path)
    session = Session([], follow=False)
    if helper:  # a fold slower than the helper: the helper runs a ring ahead and waits for room
        fold = session.fold

        def slow_fold(event, layout=None):
            time.sleep(0.002)
            return fold(event, layout)

        session.fold = slow_fold
    count = replay(journal, session, until_seq=until_seq, fold=None if helper else session.fold)
    return session.model.snapshot(), count, journal.unreadable


def main() -> int:
    path, mode = Path(sys.argv[1]), sys.argv[2]
    readahead.READ_AHEAD_BYTES = 0
    readahead.RING_BYTES = 100 << 10  # chunks of up to 64 KiB (read from a pipe): the ring wraps
    started = []
    real_start = readahead.ReadAhead.start.__func__

    def start(cls, *args):
        ahead = real_start(cls, *args)
        started.append(ahead is not None)
        return ahead

    readahead.ReadAhead.start = classmethod(start)
    if mode == "helper-stops":
        real_plan, planned = readahead.plan, []

        def plan(*args, **kwargs):  # in the helper only: the fold gets layouts from messages
            planned.append(1)
            if len(planned) > 5:
                raise OSError("the helper stops here")
            return real_plan(*args, **kwargs)

        readahead.plan = plan
    until = int(sys.argv[3]) if len(sys.argv) > 3 else None
    one = replayed(path, helper=False, until_seq=until)
    two = replayed(path, helper=True, until_seq=until)
    print(json.dumps({"helper_started": started == [True], "same_state": one[0] == two[0],
                      "counts": [one[1], two[1]], "unreadable": [one[2], two[2]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
