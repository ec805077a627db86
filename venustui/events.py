"""The event types that flow from sources through the parser into the model.

Everything downstream of a source is a fold over these: a live session and a
replayed journal produce the same sequence and therefore the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Bytes of a line that are a line: the rest up to its newline is overflow (kept and counted, not parsed).
# lnav keeps 4 MiB of a line too. A Venus line is at most a few KiB; a longer one is a dump or garbage,
# whose start is what a person reads.
LINE_LIMIT = 4 << 20

# Streams a line can come from.
FILE = "file"
STDOUT = "stdout"
STDERR = "stderr"
STDIN = "stdin"


@dataclass(slots=True)
class Line:
    """One raw line as read: bytes without the terminating newline.

    ``offset`` is the position of the first byte within ``generation`` of the
    source (a generation starts at 0 and bumps when a file is replaced or
    truncated), so offsets and lengths account for every byte read.
    """

    source: str
    stream: str
    generation: int
    offset: int
    data: bytes
    terminated: bool
    wall: float
    mono: float
    seq: int = 0
    cut: bool = False  # longer than the line limit: these are its first bytes, the rest came as overflow

    @property
    def end(self) -> int:
        """Offset just past this line and its newline, if it had one."""
        return self.offset + len(self.data) + (1 if self.terminated else 0)


@dataclass(slots=True)
class Chunk:
    """Consecutive complete lines as read, one buffer: what sources deliver and journals keep.

    ``data`` holds whole lines, each ending in a newline, except that the last one
    lacks it when ``partial`` (flushed after an idle wait, at EOF or before a
    rotation). ``seq`` is the sequence number of its first line; lines take
    consecutive numbers. A line longer than the line limit ends a chunk marked ``cut``
    (partial too); the rest of that line up to its newline follows in ``overflow``
    chunks, which hold bytes but no line (count 0, no sequence number of their own).
    """

    source: str
    stream: str
    generation: int
    offset: int
    data: bytes
    partial: bool
    wall: float
    mono: float
    seq: int = 0
    count: int = 0
    cut: bool = False
    overflow: bool = False

    def __post_init__(self) -> None:
        if not self.count and not self.overflow:
            self.count = self.data.count(b"\n") + (1 if self.partial else 0)

    def lines(self) -> list[Line]:
        """The chunk's lines as Line events (built on demand: the fast path never needs them all)."""
        if self.overflow:
            return []
        parts = self.data.split(b"\n")
        if not self.partial:
            parts.pop()  # after the final newline
        out = []
        offset = self.offset
        last = len(parts) - 1
        for i, part in enumerate(parts):
            terminated = not (self.partial and i == last)
            out.append(Line(self.source, self.stream, self.generation, offset, part, terminated,
                            self.wall, self.mono, self.seq + i, self.cut and i == last))
            offset += len(part) + 1
        return out

    def line(self, start: int, end: int, index: int) -> Line:
        """One line by its byte span within data and its index within the chunk."""
        terminated = not (self.partial and end == len(self.data))
        return Line(self.source, self.stream, self.generation, self.offset + start, self.data[start:end],
                    terminated, self.wall, self.mono, self.seq + index, self.cut and not terminated)


# Notice kinds a source can report.
OPENED = "opened"
WAITING = "waiting"
ROTATED = "rotated"
RECREATED = "recreated"
TRUNCATED = "truncated"
DELETED = "deleted"
EOF = "eof"
EXITED = "exited"
ERROR = "error"


@dataclass(slots=True)
class Notice:
    """Something that happened to a source rather than a line it produced."""

    source: str
    stream: str
    kind: str
    message: str
    wall: float
    mono: float
    seq: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Record:
    """A line understood: which format it is, what it says, the fields it carries.

    ``fmt`` names the rule family (``vkr``, ``mesa``, ``vkr-server``, ``vtest``,
    ``mvk``, ``step``, ``kernel``, ``ldso``, ``user:<name>`` or ``text``) and
    ``what`` the message within it. ``text`` is the decoded line with escape
    sequences removed; the raw bytes stay on ``line``.
    """

    line: Line
    fmt: str
    what: str
    text: str
    level: str = "info"
    fields: dict[str, Any] = field(default_factory=dict)
    handles: tuple[int, ...] = ()
    roles: tuple[str | None, ...] = ()  # what each handle is, where the line says (fence, device...)

    @property
    def seq(self) -> int:
        return self.line.seq

    @property
    def source(self) -> str:
        return self.line.source


# RunEvent kinds.
RUN_START = "start"
RUN_PROBE = "probe"
RUN_END = "end"


@dataclass(slots=True)
class RunEvent:
    """A target run as the runner saw it: its start (target, flags, environment delta), each
    probe event (JSON from the probe), and its end (outcome per phase). Not derived from log
    text, so a journal records these as they are."""

    kind: str
    run: int
    data: dict[str, Any]
    wall: float
    mono: float
    seq: int = 0


Event = Chunk | Notice | RunEvent
