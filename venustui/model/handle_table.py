"""The handle table: every handle value seen in the logs, where and how often, bounded in memory.

A trace of fresh pointers names hundreds of thousands of values, most of them once, so a value
seen once is kept as a bare tuple and becomes a ``HandleSeen`` only when seen again or read.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from operator import attrgetter
from typing import Any

HANDLE_LIMIT = 20_000  # distinct values kept (~1 KB each); a trace of fresh pointers must not grow memory

# A value seen once is kept as the tuple (seq, wall, source, side, device, run id, role): the
# arguments of _seen_once after the value, in that order. Reads by position use these names.
_SEQ, _WALL, _SOURCE, _SIDE, _DEVICE, _RUN, _ROLE = range(7)


@dataclass(slots=True)
class HandleSeen:
    """Where a value was seen. The sets are immutable and shared between values first seen in
    the same context: a trace of fresh pointers makes (and forgets) hundreds of thousands."""

    value: int
    first_seq: int
    last_seq: int
    first_wall: float
    last_wall: float
    count: int = 0
    sources: frozenset[str] = frozenset()
    sides: frozenset[str] = frozenset()
    devices: frozenset[int] = frozenset()
    runs: frozenset[int] = frozenset()
    roles: frozenset[str] = frozenset()

    # Pickled as a tuple (dataclass(slots=True)'s own pair reads its fields one call at a time).
    def __getstate__(self) -> tuple:
        return _handle_seen_state(self)

    def __setstate__(self, state: tuple) -> None:
        for name, value in zip(HANDLE_SEEN_FIELDS, state):
            object.__setattr__(self, name, value)


HANDLE_SEEN_FIELDS = tuple(HandleSeen.__dataclass_fields__)
_handle_seen_state = attrgetter(*HANDLE_SEEN_FIELDS)

class HandleTable:
    """Every handle value seen, bounded by HANDLE_LIMIT. A value seen once (most of a trace of fresh
    pointers) is kept as a tuple and becomes a HandleSeen only when seen again or read: making and
    forgetting hundreds of thousands of objects cost more than folding the lines that name them."""

    def __init__(self) -> None:
        self._repeated: dict[int, HandleSeen] = {}  # seen more than once
        self._once: dict[int, tuple] = {}  # value -> tuple laid out as _SEQ.._ROLE, oldest first
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._repeated) + len(self._once)

    def __contains__(self, value: int) -> bool:
        return value in self._repeated or value in self._once

    def __iter__(self):
        yield from self._repeated
        yield from self._once

    def __getitem__(self, value: int) -> HandleSeen:
        seen = self.get(value)
        if seen is None:
            raise KeyError(value)
        return seen

    def get(self, value: int) -> HandleSeen | None:
        seen = self._repeated.get(value)
        if seen is None and value in self._once:
            return _seen_once(value, *self._once[value])
        return seen

    def values(self):
        yield from self._repeated.values()
        for value, once in self._once.items():
            yield _seen_once(value, *once)

    def most_seen(self, limit: int) -> list[HandleSeen]:
        """The first limit values of sorted(values()) by runs, then sightings, most first, making only
        those of the values seen once that are shown (a screen asks four times a second)."""
        ranked = sorted(self._repeated.values(), key=lambda h: (-len(h.runs), -h.count))
        # A value seen once ranks after every repeated one in at least as many runs.
        shown = [h for h in ranked if h.runs]
        for in_run in (True, False):
            if not in_run:
                shown += [h for h in ranked if not h.runs]
            once = ((value, seen) for value, seen in self._once.items() if (seen[_RUN] is not None) == in_run)
            shown += [_seen_once(value, *seen) for value, seen in islice(once, max(0, limit - len(shown)))]
        return shown[:limit]

    def see(self, sightings, source: str, side: str, run_id: int | None, device: int | None, wall: float) -> None:
        """Sightings in one context, each (value, first seq, last seq, count, role or None)."""
        repeated, once = self._repeated, self._once
        for value, first, last, count, role in sightings:
            seen = repeated.get(value)
            if seen is None:
                earlier = once.pop(value, None)
                if earlier is None:
                    if len(repeated) + len(once) >= HANDLE_LIMIT:
                        self._evict()
                    if count == 1:
                        once[value] = (first, wall, source, side, device, run_id, role)  # _SEQ.._ROLE
                        continue
                    seen = repeated[value] = HandleSeen(
                        value, first, last, wall, wall, count, _one(source), _one(side),
                        _one(device) if value != device else _NONE, _one(run_id), _one(role))
                    continue
                seen = repeated[value] = _seen_once(value, *earlier)
            seen.count += count
            if first < seen.first_seq:  # bulk sightings may be older than one parsed since
                seen.first_seq, seen.first_wall = first, wall
            if last >= seen.last_seq:
                seen.last_seq, seen.last_wall = last, wall
            if source not in seen.sources:
                seen.sources = seen.sources | _one(source)
            if side and side not in seen.sides:
                seen.sides = seen.sides | _one(side)
            if device is not None and device != value and device not in seen.devices:
                seen.devices = seen.devices | _one(device)
            if run_id is not None and run_id not in seen.runs:
                seen.runs = seen.runs | _one(run_id)
            if role and role not in seen.roles:
                seen.roles = seen.roles | _one(role)

    def _evict(self) -> None:
        """Forget a tenth of the values, those seen once first, oldest first."""
        repeated, once = self._repeated, self._once
        drop = len(self) - (HANDLE_LIMIT - HANDLE_LIMIT // 10)
        gone = list(islice(once, drop))  # in the order they were first seen
        for value in gone:
            del once[value]
        if len(gone) < drop:  # every value left was seen again: the oldest go
            for value in list(islice(repeated, drop - len(gone))):
                del repeated[value]
        self.evicted += drop


def _seen_once(value: int, seq: int, wall: float, source: str, side: str, device: int | None,
               run_id: int | None, role: str | None) -> HandleSeen:
    return HandleSeen(value, seq, seq, wall, wall, 1, _one(source), _one(side),
                      _one(device) if value != device else _NONE, _one(run_id), _one(role))


_ONES: dict[Any, frozenset] = {}
_NONE: frozenset = frozenset()


def _one(item) -> frozenset:
    """A shared one-item frozenset (empty for None and ''): handle sightings use a few, millions of times."""
    found = _ONES.get(item)
    if found is None:
        if len(_ONES) > 4096:
            _ONES.clear()
        found = _ONES[item] = frozenset((item,) if item is not None and item != "" else ())
    return found
