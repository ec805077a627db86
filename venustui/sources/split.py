"""Cutting a byte stream into chunks of whole lines while accounting for every byte and its offset."""

from __future__ import annotations

import time

from venustui.events import Chunk


class ChunkSplitter:
    """Feeds bytes in, hands whole lines out as chunks; holds a partial last line until its newline.

    Offsets count from the start of the current generation, so the chunks' bytes
    always add up to the bytes fed.
    """

    __slots__ = ("source", "stream", "generation", "offset", "_partial", "_last_byte_at")

    def __init__(self, source: str, stream: str, generation: int = 0, offset: int = 0):
        self.source = source
        self.stream = stream
        self.generation = generation
        self.offset = offset  # offset of the first byte not yet emitted
        self._partial = b""
        self._last_byte_at = 0.0

    @property
    def pending(self) -> int:
        return len(self._partial)

    def feed(self, data: bytes, wall: float | None = None, mono: float | None = None) -> list[Chunk]:
        if not data:
            return []
        mono = time.monotonic() if mono is None else mono
        self._last_byte_at = mono
        cut = data.rfind(b"\n")
        if cut < 0:
            self._partial += data
            return []
        whole = self._partial + data[:cut + 1] if self._partial else data[:cut + 1]
        self._partial = data[cut + 1:]
        chunk = Chunk(self.source, self.stream, self.generation, self.offset, whole, False,
                      time.time() if wall is None else wall, mono)
        self.offset += len(whole)
        return [chunk]

    def idle_for(self, now_mono: float) -> float:
        return now_mono - self._last_byte_at if self._partial else 0.0

    def flush(self, wall: float | None = None, mono: float | None = None) -> list[Chunk]:
        """Emit a held partial line as an unterminated line (idle timeout, EOF, rotation)."""
        if not self._partial:
            return []
        chunk = Chunk(self.source, self.stream, self.generation, self.offset, self._partial, True,
                      time.time() if wall is None else wall, time.monotonic() if mono is None else mono)
        self.offset += len(self._partial)
        self._partial = b""
        return [chunk]

    def restart(self, generation: int) -> None:
        """Start a new generation at offset 0 (after flushing whatever was held)."""
        self.generation = generation
        self.offset = 0
        self._partial = b""
