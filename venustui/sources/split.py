"""Cutting a byte stream into lines while accounting for every byte and its offset."""

from __future__ import annotations

import time

from venustui.events import Line


class LineSplitter:
    """Feeds bytes in, hands complete lines out; holds a partial last line until its newline.

    Offsets count from the start of the current generation, so the sum of line
    lengths (plus one per newline) always equals the bytes fed.
    """

    __slots__ = ("source", "stream", "generation", "offset", "_partial", "_partial_since")

    def __init__(self, source: str, stream: str, generation: int = 0, offset: int = 0):
        self.source = source
        self.stream = stream
        self.generation = generation
        self.offset = offset  # offset of the first byte not yet emitted
        self._partial = b""
        self._partial_since = 0.0

    @property
    def pending(self) -> int:
        return len(self._partial)

    def feed(self, chunk: bytes, wall: float | None = None, mono: float | None = None) -> list[Line]:
        if not chunk:
            return []
        wall = time.time() if wall is None else wall
        mono = time.monotonic() if mono is None else mono
        data = self._partial + chunk if self._partial else chunk
        parts = data.split(b"\n")
        tail = parts.pop()
        lines = []
        offset = self.offset
        src, stream, gen = self.source, self.stream, self.generation
        for part in parts:
            lines.append(Line(src, stream, gen, offset, part, True, wall, mono))
            offset += len(part) + 1
        self.offset = offset
        if tail:
            self._partial_since = mono  # idle is measured from the last byte received
        self._partial = tail
        return lines

    def idle_for(self, now_mono: float) -> float:
        return now_mono - self._partial_since if self._partial else 0.0

    def flush(self, wall: float | None = None, mono: float | None = None) -> list[Line]:
        """Emit a held partial line as an unterminated line (idle timeout, EOF, rotation)."""
        if not self._partial:
            return []
        wall = time.time() if wall is None else wall
        mono = time.monotonic() if mono is None else mono
        line = Line(self.source, self.stream, self.generation, self.offset, self._partial, False, wall, mono)
        self.offset += len(self._partial)
        self._partial = b""
        return [line]

    def restart(self, generation: int) -> None:
        """Start a new generation at offset 0 (after flushing whatever was held)."""
        self.generation = generation
        self.offset = 0
        self._partial = b""
