"""Log time: the time a line's own stamp says, and the lines of several sources on one time axis.

A stamp is read from the line's envelope (parse/envelope.py) and belongs to a clock: ``wall`` (a
date and time, or QEMU's trace seconds since the epoch), ``syslog`` (month, day and time, no year),
``uptime`` (dmesg and journald's monotonic seconds since boot, logrus's since its start) or ``day``
(a time of day alone).
Clocks differ between sources (a guest's uptime, a host's wall clock, a syslog without a year), so
each source's stamps are mapped onto the arrival clock by an offset estimated from its own lines:
the smallest arrival minus stamp seen (a followed line arrives at or after its stamp; a file read at
once is taken to end when it was read). A line without a stamp keeps its place after its source's
previous stamped line; a source without stamps keeps arrival time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from venustui.parse import envelope

CLOCK_NAMES = {"wall": "wall clock", "syslog": "syslog clock", "uptime": "uptime", "day": "time of day"}
_MONTHS = {name: k for k, names in enumerate(envelope.MONTH_ABBREVIATIONS) for name in names}
_ENGLISH_MONTHS = frozenset(names[0].title() for names in envelope.MONTH_ABBREVIATIONS)
# The characters a line with a stamp can start with: digits, brackets, a month's or weekday's first letter, a level's
_STAMP_FIRST = frozenset("0123456789[<TWIEP \t>{t") | {form[0] for names in envelope.MONTH_ABBREVIATIONS for name in names
                                                        for form in (name, name.title())}
_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_SYSLOG = re.compile(r"([^\W\d_]{3,5})\.? +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)$")
_DAY = re.compile(r"(\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)$")
_EPOCH = re.compile(r"\d{9,10}\.\d+$")
# logcat: 12-01 10:00:00.123, glog: 1201 10:00:00.123456, Chromium: 1201/100000.123456
_MONTH_DAY = re.compile(r"(\d{2})-?(\d{2})[ /](\d{2}):?(\d{2}):?(\d{2}(?:\.\d+)?)$")
_WEEKDAYS = frozenset(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
_FRACTION = re.compile(r"[.,](\d+)")
UPTIME_FORMS = ("dmesg", "journal-monotonic")
DAY = 86400.0


def stamp(text: str) -> tuple[str, float] | None:
    """The clock and seconds of a line's own stamp, if its envelope has one."""
    if not text or text[0] not in _STAMP_FIRST:  # no envelope with a time starts otherwise
        return None
    wrapped = envelope.peel(text)
    raw = wrapped.fields.get("time")
    if raw is None:
        return None
    forms = wrapped.forms
    if any(form in UPTIME_FORMS for form in forms):
        return "uptime", float(raw)
    if "qemu-trace" in forms:
        return "wall", float(raw)
    if "logrus-tty" in forms and raw.isdigit():  # INFO[0005]: seconds since the program started
        return "uptime", float(raw)
    return read_time(raw)


def read_time(raw: str) -> tuple[str, float] | None:
    """A stamp's text as (clock, seconds): ISO-8601 dates (journalctl's short-full too), seconds since the epoch
    (short-unix), syslog's month and day (logcat's numeric month-day alike), a time of day."""
    if raw[:3] in _WEEKDAYS and raw[4:7] in _ENGLISH_MONTHS and raw[-4:].isdigit():  # dmesg -T: Wed Dec 24 23:34:41 2025
        try:
            return "wall", datetime.strptime(raw, "%a %b %d %H:%M:%S %Y").replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            return None
    if raw[:3] in _WEEKDAYS and raw[3:4] == " ":  # short-full: Thu 2025-11-26 10:33:02 UTC
        date, _, zone = raw[4:].rpartition(" ")
        raw = date if zone.isalpha() else raw[4:]  # a zone's name is dropped: the source's offset absorbs it
    if _EPOCH.match(raw):
        return "wall", float(raw)
    match = _MONTH_DAY.match(raw)
    if match and 1 <= int(match.group(1)) <= 12:
        month, day, hours, minutes, seconds = match.groups()
        days = _DAYS_BEFORE[int(month) - 1] + int(day) - 1
        return "syslog", days * DAY + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if raw[:4].isdigit() and raw[4:5] == "/":  # Go's log package: 2025/06/10 12:00:00
        raw = raw[:10].replace("/", "-") + raw[10:]
    if raw[:4].isdigit() and raw[4:5] == "-":
        text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], raw, count=1)
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
        if when.tzinfo is None:  # a naive stamp: read as UTC (the source's offset absorbs its zone)
            when = when.replace(tzinfo=timezone.utc)
        return "wall", when.timestamp()
    match = _SYSLOG.match(raw)
    if match and match.group(1).lower() in _MONTHS:
        month, day, hours, minutes, seconds = match.groups()
        days = _DAYS_BEFORE[_MONTHS[month.lower()]] + int(day) - 1
        return "syslog", days * DAY + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    match = _DAY.match(raw)
    if match:
        hours, minutes, seconds = match.groups()
        return "day", int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return None


@dataclass
class _SourceClock:
    clock: str | None = None  # the first clock seen on the source: stamps of another are ignored
    offset: float = np.inf  # smallest arrival - stamp so far
    last: float = np.nan  # the last stamp (a time of day wraps past midnight)
    wraps: float = 0.0  # days added to a time of day
    stamped: int = 0


@dataclass
class Timeline:
    """Lines (by number) with their source, arrival time and stamp; order() sorts them by log time."""

    numbers: list[np.ndarray] = field(default_factory=list)
    sources: list[np.ndarray] = field(default_factory=list)  # index into self.names
    arrivals: list[np.ndarray] = field(default_factory=list)
    stamps: list[np.ndarray] = field(default_factory=list)  # nan: no usable stamp
    names: list[str] = field(default_factory=list)
    clocks: dict[str, _SourceClock] = field(default_factory=dict)
    _index: dict[str, int] = field(default_factory=dict)

    def add(self, lines) -> None:
        """Add lines as (number, source, arrival, text), in arrival order."""
        numbers, sources, arrivals, stamps = [], [], [], []
        for number, source, arrival, text in lines:
            state = self.clocks.get(source)
            if state is None:
                state = self.clocks[source] = _SourceClock()
                self._index[source] = len(self.names)
                self.names.append(source)
            found = stamp(text)
            seconds = np.nan
            if found is not None and state.clock in (None, found[0]):
                state.clock, seconds = found
                if state.clock == "day":
                    if seconds + state.wraps < state.last - DAY / 2:  # past midnight
                        state.wraps += DAY
                    seconds += state.wraps
                state.last = seconds
                state.offset = min(state.offset, arrival - seconds)
                state.stamped += 1
            numbers.append(number)
            sources.append(self._index[source])
            arrivals.append(arrival)
            stamps.append(seconds)
        if numbers:
            self.numbers.append(np.array(numbers, dtype=np.int64))
            self.sources.append(np.array(sources, dtype=np.int64))
            self.arrivals.append(np.array(arrivals, dtype=np.float64))
            self.stamps.append(np.array(stamps, dtype=np.float64))

    def order(self, first: int = 0) -> np.ndarray:
        """The line numbers (from first on) by log time: stamps mapped onto the arrival clock per source; a
        line without a stamp right after its source's previous line; a source without stamps by arrival."""
        if not self.numbers:
            return np.zeros(0, dtype=np.int64)
        numbers, sources = np.concatenate(self.numbers), np.concatenate(self.sources)
        arrivals, stamps = np.concatenate(self.arrivals), np.concatenate(self.stamps)
        times = arrivals.copy()
        for index, name in enumerate(self.names):
            state = self.clocks[name]
            mine = np.flatnonzero(sources == index)
            if not state.stamped or not len(mine):
                continue
            aligned = stamps[mine] + state.offset
            have = ~np.isnan(aligned)
            # each unstamped line takes the time of its source's stamped line before it (or its own arrival)
            previous = np.maximum.accumulate(np.where(have, np.arange(len(mine)), -1))
            filled = np.where(previous >= 0, aligned[np.maximum(previous, 0)], arrivals[mine])
            times[mine] = filled
        order = np.argsort(times, kind="stable")
        ordered = numbers[order]
        return ordered[ordered >= first]

    def describe(self) -> str:
        """How each source's lines were placed, for the view's title."""
        parts = []
        for name in self.names:
            state = self.clocks[name]
            if not state.stamped:
                parts.append(f"{name}: arrival order (no stamps)")
            elif state.clock == "wall":
                parts.append(f"{name}: wall clock {state.offset:+.1f} s")
            elif state.clock == "uptime":
                boot = datetime.fromtimestamp(state.offset, timezone.utc).strftime("%H:%M:%S")
                parts.append(f"{name}: uptime, booted {boot} UTC")
            else:
                parts.append(f"{name}: {CLOCK_NAMES[state.clock]}, shifted to arrival")
        return " · ".join(parts)
