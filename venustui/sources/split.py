"""Cutting a byte stream into chunks of whole lines while accounting for every byte and its offset.

A line is delivered once, when its newline arrives (or its source ends, rotates or stops):
a line written in two parts is one line, parsed and counted once. A line longer than
``LINE_LIMIT`` is cut there: its first ``LINE_LIMIT`` bytes are a line (marked cut), and
the bytes after them up to its newline come as overflow chunks, which carry the bytes
(a journal keeps them, the model counts them) but no line. So memory stays flat and time
linear whatever a source sends, a file of zeros with no newline included.
"""

from __future__ import annotations

import time

from venustui.events import LINE_LIMIT, Chunk


class ChunkSplitter:
    """Feeds bytes in, hands whole lines out as chunks; holds a partial last line until its newline.

    Offsets count from the start of the current generation, so the chunks' bytes
    always add up to the bytes fed.
    """

    __slots__ = ("source", "stream", "generation", "offset", "line_limit", "_held", "_held_bytes", "_in_cut")

    def __init__(self, source: str, stream: str, generation: int = 0, offset: int = 0,
                 line_limit: int = LINE_LIMIT):
        self.source = source
        self.stream = stream
        self.generation = generation
        self.offset = offset  # offset of the first byte not yet emitted
        self.line_limit = line_limit
        self._held: list[bytes] = []  # the start of a line whose newline has not come (joined once, at the end)
        self._held_bytes = 0
        self._in_cut = False  # past the limit of a line: its bytes go out as overflow up to its newline

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held back (shown as pending, parsed when it ends)."""
        return self._held_bytes

    def feed(self, data: bytes, wall: float | None = None, mono: float | None = None) -> list[Chunk]:
        if not data:
            return []
        wall = time.time() if wall is None else wall
        mono = time.monotonic() if mono is None else mono
        out: list[Chunk] = []
        if self._in_cut:
            newline = data.find(b"\n")
            end = len(data) if newline < 0 else newline + 1
            self._emit(out, data[:end], wall, mono, overflow=True)
            if newline < 0:
                return out
            self._in_cut = False
            data = data[end:]
        last = data.rfind(b"\n")
        if last < 0:
            self._hold(out, data, wall, mono)
            return out
        if self._held_bytes + last + 1 > self.line_limit or last + 1 > self.line_limit:
            self._feed_lines(out, data, wall, mono)  # some line may pass the limit: look at each
            return out
        whole = data[:last + 1]
        if self._held:
            whole = b"".join(self._held) + whole
            self._held, self._held_bytes = [], 0
        self._emit(out, whole, wall, mono)
        if last + 1 < len(data):
            self._hold(out, data[last + 1:], wall, mono)
        return out

    def _feed_lines(self, out: list[Chunk], data: bytes, wall: float, mono: float) -> None:
        """The slow way, for data that holds or completes a line over the limit: line by line."""
        start = 0
        batch_from = 0  # start of whole lines not emitted yet
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                break
            length = self._held_bytes + newline + 1 - start if start == 0 else newline + 1 - start
            if length - 1 > self.line_limit:  # this line is over the limit (its newline not counted)
                if start > batch_from:
                    self._emit(out, data[batch_from:start], wall, mono)
                self._hold(out, data[start:newline + 1], wall, mono)  # cuts it: emits the head, the rest as overflow
                self._in_cut = False  # its newline was in this data
                batch_from = newline + 1
            elif start == 0 and self._held:
                whole = b"".join(self._held) + data[:newline + 1]
                self._held, self._held_bytes = [], 0
                self._emit(out, whole, wall, mono)
                batch_from = newline + 1
            start = newline + 1
        if start > batch_from:
            self._emit(out, data[batch_from:start], wall, mono)
        if start < len(data):
            self._hold(out, data[start:], wall, mono)

    def _hold(self, out: list[Chunk], data: bytes, wall: float, mono: float) -> None:
        """Keep the start of an unfinished line; past the limit, emit its head (cut) and the rest as overflow."""
        room = self.line_limit - self._held_bytes
        if len(data) <= room:
            self._held.append(data)
            self._held_bytes += len(data)
            return
        head = b"".join(self._held) + data[:room]
        self._held, self._held_bytes = [], 0
        self._emit(out, head, wall, mono, partial=True, cut=True)
        self._emit(out, data[room:], wall, mono, overflow=True)
        self._in_cut = True

    def _emit(self, out: list[Chunk], data: bytes, wall: float, mono: float, *, partial: bool = False,
              cut: bool = False, overflow: bool = False) -> None:
        if not data:
            return
        out.append(Chunk(self.source, self.stream, self.generation, self.offset, data, partial, wall, mono,
                         cut=cut, overflow=overflow))
        self.offset += len(data)

    def flush(self, wall: float | None = None, mono: float | None = None) -> list[Chunk]:
        """Emit a held partial line as an unterminated line (end of the source, rotation, stop)."""
        self._in_cut = False
        if not self._held:
            return []
        out: list[Chunk] = []
        data = b"".join(self._held)
        self._held, self._held_bytes = [], 0
        self._emit(out, data, time.time() if wall is None else wall, time.monotonic() if mono is None else mono,
                   partial=True)
        return out

    def restart(self, generation: int) -> None:
        """Start a new generation at offset 0 (after flushing whatever was held)."""
        self.generation = generation
        self.offset = 0
        self._held, self._held_bytes = [], 0
        self._in_cut = False
