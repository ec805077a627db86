"""The raw lines a screen shows: the most recent chunks of every source, numbered densely in arrival order.

The fold thread adds to it while the screen reads; nothing here takes a lock (see LineStore).
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from venustui.events import Chunk, Line
from venustui.index import classify, line_starts

STORE_BYTES = 64 << 20  # raw text kept for display; older lines are counted but no longer shown


@dataclass
class StoredChunk:
    first: int  # the store's own line number of the chunk's first line (notices take none)
    count: int
    chunk: Chunk
    starts: np.ndarray
    kinds: np.ndarray


_first = attrgetter("first")


def _stored_bytes(stored: StoredChunk) -> int:
    return len(stored.chunk.data) + stored.starts.nbytes + stored.kinds.nbytes


class LineStore:
    """The most recent lines of every source in arrival order, for a view that renders only what it shows.

    Lines are numbered densely from 0 in arrival order; old chunks are dropped past max_bytes.
    """

    def __init__(self, max_bytes: int = STORE_BYTES):
        self.max_bytes = max_bytes
        # Added to and dropped from by the fold thread while the screen reads: readers take one
        # atomic look (a C-level bisect or list copy under the GIL) and check what they got.
        self.chunks: deque[StoredChunk] = deque()
        self.bytes = 0
        self.total = 0  # lines ever added

    def add(self, chunk: Chunk, starts: np.ndarray | None = None, kinds: np.ndarray | None = None) -> None:
        """Keep a chunk; starts and kinds are the ingest's own when it just folded it."""
        if starts is None or kinds is None:
            starts = line_starts(chunk.data)
            kinds = classify(chunk.data, starts)
        stored = StoredChunk(self.total, chunk.count, chunk, starts, kinds)
        self.chunks.append(stored)
        self.total += chunk.count
        self.bytes += _stored_bytes(stored)
        while self.bytes > self.max_bytes and len(self.chunks) > 1:
            self.bytes -= _stored_bytes(self.chunks.popleft())

    @property
    def first(self) -> int:
        """The number of the oldest line still kept."""
        return self.chunks[0].first if self.chunks else 0  # never empty again once added to

    def line(self, number: int) -> tuple[Line, int] | None:
        """The line with this number and its kind byte, if still kept."""
        chunks = self.chunks
        for _ in range(8):
            at = bisect.bisect_right(chunks, number, key=_first) - 1
            if at < 0:
                return None
            try:
                stored = chunks[at]
            except IndexError:  # the oldest chunks were dropped after the bisect: look again
                continue
            if stored.first <= number:
                break
        else:
            return None
        index = number - stored.first
        if index >= stored.count:
            return None
        start = int(stored.starts[index])
        data = stored.chunk.data
        end = int(stored.starts[index + 1]) - 1 if index + 1 < len(stored.starts) else (
            len(data) - (0 if stored.chunk.partial else 1))
        return stored.chunk.line(start, end, index), int(stored.kinds[index])

    def number_of(self, seq: int) -> int | None:
        """The store's number for the line with this sequence number, if still kept."""
        for stored in list(self.chunks):
            if stored.chunk.seq <= seq < stored.chunk.seq + stored.count:
                return stored.first + seq - stored.chunk.seq
        return None

    def matching(self, predicate, start: int) -> list[int]:
        """Numbers of kept lines from start on whose (line, kind) satisfy predicate (for a filtered view)."""
        out = []
        for stored in list(self.chunks):
            if stored.first + stored.count <= start:
                continue
            for index in range(max(0, start - stored.first), stored.count):
                found = self.line(stored.first + index)
                if found is not None and predicate(*found):
                    out.append(stored.first + index)
        return out

    def search(self, text: str, before: int) -> int | None:
        """The number of the newest line before `before` that contains text (case-insensitive)."""
        needle = text.lower().encode()
        for stored in reversed(list(self.chunks)):
            if stored.first >= before:
                continue
            data = stored.chunk.data.lower()
            limit = len(data)
            if before < stored.first + stored.count:
                limit = int(stored.starts[before - stored.first])
            at = data.rfind(needle, 0, limit)
            if at >= 0:
                return stored.first + int(np.searchsorted(stored.starts, at, side="right") - 1)
        return None
