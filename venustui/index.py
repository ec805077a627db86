"""Line index and fast classification: offsets and a kind per line, for whole chunks at once.

The fast path never builds a Python object per line. Newlines are found with numpy; each line's kind
(which family's line it is, and whether the model needs it parsed) comes from the registry of line
families (parse/families.py): their starts, tested on every line's first 8 bytes at once, then their
literals, all found in one search of the lines that still need them (``Literals``), mapped to lines by
binary search. Fields are parsed later, and only for lines that are shown or tracked.

Memory: 8 bytes of offset and 1 byte of kind per line, in fixed blocks.
"""

from __future__ import annotations

import mmap
import os
import sys
import threading
from dataclasses import dataclass

import numpy as np

from venustui.literals import Literals
from venustui.parse import families as registry

TEXT = 0
FORMAT_NAMES = registry.FORMAT_NAMES  # a format's code is its place here
CODES = {name: code for code, name in enumerate(FORMAT_NAMES)}
TRACKED = 0x80

class StartTest:
    """One Start of the registry as tests on 8-byte words: the literal places of each 8 bytes of its pattern
    compared at once under a mask, the places that allow a range of bytes (a digit, a lowercase letter)
    one by one."""

    def __init__(self, code: int, start) -> None:
        self.code = code | (TRACKED if start.tracked else 0)
        self.length = len(start.positions)
        self.words = []  # per 8 places: (offset, mask, value, [(shift, low, high)])
        for offset in range(0, self.length, 8):
            mask = value = 0
            ranges = []
            for k, allowed in enumerate(start.positions[offset:offset + 8]):
                if len(allowed) == 1:
                    mask |= 0xFF << (8 * k)
                    value |= allowed[0] << (8 * k)
                else:
                    ranges.append((8 * k, min(allowed), max(allowed)))
            self.words.append((offset, np.uint64(mask), np.uint64(value), ranges))
        self.ends = tuple((np.uint64(8 * (8 - len(end))), np.uint64(int.from_bytes(end.encode(), "little")), len(end))
                          for end in start.ends)
        self.shorter_than = start.shorter_than
        # The lines to test first, by a range of their first two bytes read big-endian (a fixed first byte and
        # a second byte in a range make one range of values), else of the first byte alone.
        first, second = start.positions[0], start.positions[1] if self.length > 1 else b""
        if len(first) == 1 and second:
            self.key = (True, first[0] << 8 | min(second), first[0] << 8 | max(second))
        else:
            self.key = (False, min(first), max(first))

    def lines(self, windows, b0: np.ndarray, b01: np.ndarray, first: np.ndarray, local: np.ndarray,
              ends: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        """The plain lines this start matches; b0 is each line's first byte, b01 its first two (big-endian),
        first its first 8 bytes."""
        two, low, high = self.key
        key = b01 if two else b0
        lines = np.flatnonzero(key == low) if low == high else np.flatnonzero((key >= low) & (key <= high))
        lines = lines[(kinds[lines] == TEXT) & (ends[lines] - local[lines] >= self.length)]
        for offset, mask, value, ranges in self.words:
            word = first[lines] if offset == 0 else windows.at(local[lines] + offset)
            keep = (word & mask) == value
            for shift, low, high in ranges:
                byte = (word >> np.uint64(shift)) & np.uint64(0xFF)
                keep &= (byte >= low) & (byte <= high)
            lines = lines[keep]
        if self.shorter_than:
            lines = lines[ends[lines] - local[lines] < self.shorter_than]
        if self.ends and len(lines):
            last = windows.at(ends[lines] - 8)
            size = ends[lines] - local[lines]
            fits = np.zeros(len(lines), dtype=bool)
            for shift, value, length in self.ends:
                fits |= (size >= length) & ((last >> shift) == value)
            lines = lines[fits]
        return lines


class Windows:
    """Every 8-byte window of a buffer as a little-endian integer, read at any place with one gather
    (a strided view of the buffer, no copy); places near or past either end read zeros there."""

    def __init__(self, arr: np.ndarray) -> None:
        self.n = len(arr)
        self.arr = arr
        self.view = (np.ndarray((self.n - 7,), dtype="<u8", buffer=arr, strides=(1,)) if self.n >= 8
                     else np.zeros(0, dtype=np.uint64))

    def at(self, places: np.ndarray) -> np.ndarray:
        inside = (places >= 0) & (places <= self.n - 8)
        if inside.all():
            return self.view[places]
        out = np.zeros(len(places), dtype=np.uint64)
        out[inside] = self.view[places[inside]]
        padded = np.zeros(self.n + 16, dtype=np.uint8)  # rare: a line within 8 bytes of the buffer's ends
        padded[8:8 + self.n] = self.arr
        for k in np.flatnonzero(~inside).tolist():
            at = int(places[k]) + 8
            if 0 <= at <= self.n + 8:
                out[k] = int.from_bytes(padded[at:at + 8].tobytes(), "little")
        return out


class Classifier:
    """A kind byte per line (format in the low bits, TRACKED when the model needs the line parsed), from
    the registry's families: their starts, tested for all lines at once on the lines' first bytes, then
    their literals, all found in one search (``Literals``) of the lines that still need them. ``extra``
    literals (user rules' markers) make any line holding one tracked."""

    def __init__(self, families=registry.FAMILIES, extra: tuple[bytes, ...] = ()) -> None:
        self.starts = tuple(StartTest(CODES[family.name], start) for family in families for start in family.starts)
        # On plain lines, in this order (first wins): (literal, code it gives them, its family's code).
        text_steps: list[tuple[bytes, int, int]] = []
        for family in families:  # a family's literal anywhere in a plain line makes it the family's
            text_steps += [(literal, CODES[family.name] | TRACKED, CODES[family.name]) for literal in family.anywhere]
        for family in families:  # its payload behind an envelope or glued: sent to the parser
            text_steps += [(literal, TEXT | TRACKED, CODES[family.name]) for literal in family.tracked]
        self.text_steps = text_steps
        self.enveloping = np.array([CODES[f.name] for f in families if f.enveloping], dtype=np.uint8)
        self.tracked_if = tuple(pair for family in families for pair in family.tracked_if)
        self.extra = tuple(extra)
        text_literals = [literal for literal, _, _ in text_steps] + [m for m, _ in self.tracked_if]
        text_literals += [w for _, words in self.tracked_if for w in words] + list(self.extra)
        # A line already known as a family's, untracked, that holds one of its tracked_own literals.
        self.text_search = Literals(text_literals)
        # Searched per family, in its lines: a family's lines are often a small part of the buffer.
        self.own = tuple((CODES[family.name], Literals(family.tracked_own)) for family in families if family.tracked_own)
        # Functions the model follows, compared as the 8 bytes after a family's start and a space (and "vk").
        self.calls = tuple((CODES[family.name], len(family.starts[0].pattern) + 1,
                            np.array([int.from_bytes(call.encode()[:8], "little") for call in family.calls],
                                     dtype=np.uint64))
                           for family in families if family.calls)
        if any(len(call) < 8 for family in families for call in family.calls):
            raise ValueError("a followed call is told by its first 8 bytes: names of 8 letters or more")

    def _enveloping(self, kinds: np.ndarray) -> np.ndarray:
        """Which of these kinds are an enveloping family's, untracked (a compare per code: np.isin costs more)."""
        out = np.zeros(len(kinds), dtype=bool)
        for code in self.enveloping.tolist():
            out |= kinds == code
        return out

    def classify(self, buf, starts: np.ndarray, base: int = 0) -> np.ndarray:
        arr = np.frombuffer(buf, dtype=np.uint8)
        n = len(starts)
        kinds = np.zeros(n, dtype=np.uint8)
        if not n:
            return kinds
        local = starts - base
        last = len(arr) - 1
        ends = np.empty(n, dtype=np.int64)  # each line's newline position (or the buffer's end)
        ends[:-1] = local[1:] - 1
        ends[-1] = last if arr[last] == 10 else len(arr)
        windows = Windows(arr)
        first = windows.at(local)
        b0 = (first & np.uint64(0xFF)).astype(np.uint16)
        b01 = (b0 << 8) | ((first >> np.uint64(8)) & np.uint64(0xFF)).astype(np.uint16)
        for test in self.starts:
            kinds[test.lines(windows, b0, b01, first, local, ends, kinds)] = test.code
        for code, skip, words in self.calls:  # e.g. [VKR] vkCreateFence: tracked
            lines = np.flatnonzero(kinds == code)
            if len(lines):
                fn = local[lines] + skip
                named = windows.at(fn)
                vk = (named & np.uint64(0xFFFF)) == np.uint64(ord("v") | ord("k") << 8)
                named[vk] = windows.at(fn[vk] + 2)
                kinds[lines[np.isin(named, words)]] |= TRACKED

        # Plain lines, and those of an enveloping family (another family's line behind a dmesg stamp).
        plain = np.arange(n) if self.extra else np.flatnonzero((kinds == TEXT) | self._enveloping(kinds))
        line_of = _found(self.text_search, buf, arr, local, ends, plain)
        for literal, gives, owner in self.text_steps:
            lines = line_of[literal]
            if len(lines):
                behind = lines[self._enveloping(kinds[lines]) & (kinds[lines] != owner)]
                lines = lines[kinds[lines] == TEXT]
                kinds[lines] = gives
                kinds[behind] = TEXT | TRACKED  # the parser peels the stamp and finds the family
        for marker, words in self.tracked_if:  # e.g. QEMU's lines: only those that say something failed
            some = line_of[marker]
            if len(some):
                said = np.zeros(n, dtype=bool)
                for word in words:
                    said[line_of[word]] = True
                lines = some[said[some]]
                kinds[lines[(kinds[lines] == TEXT) | self._enveloping(kinds[lines])]] = TEXT | TRACKED
        for literal in self.extra:
            kinds[line_of[literal]] |= TRACKED
        for code, search in self.own:
            own = np.flatnonzero(kinds == code)
            for lines in _found(search, buf, arr, local, ends, own).values():
                if len(lines):
                    kinds[lines[kinds[lines] == code]] |= TRACKED
        return kinds


def _found(search: Literals, buf, arr: np.ndarray, local: np.ndarray, ends: np.ndarray,
           lines: np.ndarray) -> dict[bytes, np.ndarray]:
    """The lines (of those given) holding each literal. Where the lines are a small part of the buffer, their
    bytes are gathered first (runs of neighbouring lines as one slice), else the whole buffer is searched."""
    if not len(lines):
        return {literal: lines for literal in search.literals}
    breaks = np.flatnonzero(np.diff(lines) != 1) + 1
    # Searching costs about 2 ns a byte, gathering about 150 ns a run of lines (measured here).
    if 2 * int((ends[lines] - local[lines]).sum()) + 150 * (len(breaks) + 1) >= 2 * len(arr):
        return _lines_of(search.literals, *search.find(buf), local)
    firsts = lines[np.concatenate(([0], breaks))]
    lasts = lines[np.concatenate((breaks - 1, [len(lines) - 1]))]
    run_starts = local[firsts]
    run_ends = np.minimum(ends[lasts] + 1, len(arr))
    sub = b"".join([buf[a:b] for a, b in zip(run_starts.tolist(), run_ends.tolist())])
    # The gathered lines' starts in sub, and which line of the buffer each is.
    sizes = np.minimum(ends[lines] + 1, len(arr)) - local[lines]
    sub_local = np.zeros(len(lines), dtype=np.int64)
    np.cumsum(sizes[:-1], out=sub_local[1:])
    found = _lines_of(search.literals, *search.find(sub), sub_local)
    return {literal: lines[where] for literal, where in found.items()}


def _lines_of(literals: tuple[bytes, ...], pos: np.ndarray, which: np.ndarray,
              starts: np.ndarray) -> dict[bytes, np.ndarray]:
    """For each literal, the lines (by their starts) holding it, each once and in order, from Literals.find's
    answer: one search and one sort for all literals (per literal, numpy's fixed cost per call was most of it)."""
    lines = len(starts)
    key = np.sort(which * lines + np.searchsorted(starts, pos, side="right") - 1)
    key = key[np.concatenate((key[:1] == key[:1], key[1:] != key[:-1]))]  # np.unique hashes: 3 times slower here
    bounds = np.searchsorted(key, np.arange(len(literals) + 1, dtype=np.int64) * lines).tolist()
    return {literal: key[low:high] - k * lines
            for k, (literal, low, high) in enumerate(zip(literals, bounds[:-1], bounds[1:]))}


DEFAULT = Classifier()
classify = DEFAULT.classify


def line_starts(buf, base: int = 0) -> np.ndarray:
    """Start offsets of the lines in buf (the last may be unterminated), plus base."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    if not len(arr):
        return np.zeros(0, dtype=np.int64)
    newlines = np.flatnonzero(arr == 10)
    starts = np.empty(len(newlines) + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = newlines + 1
    if starts[-1] == len(arr):  # ends with a newline: no line after it
        starts = starts[:-1]
    if base:
        starts += base
    return starts


def _find_literal(arr: np.ndarray, literal: bytes, anchor: int) -> np.ndarray:
    """Start positions of a literal, vectorized: candidates by one (rare) byte, then the rest checked."""
    last = len(arr) - 1
    cand = np.flatnonzero(arr == literal[anchor]) - anchor
    cand = cand[cand >= 0]
    for k, byte in enumerate(literal):
        if k != anchor and len(cand):
            cand = cand[arr[np.minimum(cand + k, last)] == byte]
    return cand


_HEX = np.full(256, 255, dtype=np.uint8)
for _digit, _char in enumerate(b"0123456789abcdef"):
    _HEX[_char] = _digit
    _HEX[bytes([_char]).upper()[0]] = _digit
_WORD = np.zeros(256, dtype=bool)
for _char in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_":
    _WORD[_char] = True


def handle_values(buf) -> tuple[np.ndarray, np.ndarray]:
    """Positions and values of the hex handles (``0x`` and 4-16 digits, whole words) in buf, vectorized."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    if len(arr) < 6:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    pos = _find_literal(arr, b"0x", 1)
    pos = pos[(pos == 0) | ~_WORD[arr[np.maximum(pos - 1, 0)]]]
    padded = np.concatenate((arr, np.zeros(20, np.uint8)))  # reads past the end see a non-digit
    run = np.ones(len(pos), dtype=bool)
    digits = np.zeros(len(pos), dtype=np.int64)
    value = np.zeros(len(pos), dtype=np.uint64)
    four = np.uint64(4)
    for k in range(2, 19):  # 16 digits at most, and one more place to see the run end
        nibble = _HEX[padded[pos + k]]
        run &= nibble != 255
        if k < 18:
            np.copyto(value, (value << four) | nibble, where=run)
        digits += run
        if not run.any():
            break
    keep = (digits >= 4) & (digits <= 16) & ~_WORD[padded[pos + 2 + digits]]
    return pos[keep], value[keep]


@dataclass
class FileIndex:
    path: str
    size: int
    offsets: np.ndarray  # uint64, one per line
    kinds: np.ndarray  # uint8, one per line

    @property
    def lines(self) -> int:
        return len(self.offsets)

    def format_counts(self) -> dict[str, int]:
        counts = np.bincount(self.kinds & 0x7F, minlength=len(FORMAT_NAMES))
        out: dict[str, int] = {}
        for code, count in enumerate(counts[:len(FORMAT_NAMES)]):
            if count:
                out[FORMAT_NAMES[code]] = out.get(FORMAT_NAMES[code], 0) + int(count)
        return out


SLICE = 4 << 20  # bytes classified at a time: temporaries stay in cache


def _index_range(path: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Index the lines that start in [start, stop) of a file (stop at a line boundary)."""
    offsets, kinds = [], []
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = start
        while pos < stop:
            end = mm.find(b"\n", min(pos + SLICE, stop) - 1, stop)
            end = stop if end < 0 else end + 1
            data = mm[pos:end]  # bytes, one copy: slicing bytes for the literal search costs half what a view's does
            starts = line_starts(data, pos)
            offsets.append(starts.view(np.uint64))
            kinds.append(classify(data, starts, pos))
            pos = end
    return np.concatenate(offsets), np.concatenate(kinds)


def _split_points(path: str, size: int, parts: int) -> list[int]:
    points = [0]
    with open(path, "rb") as f:
        for k in range(1, parts):
            f.seek(size * k // parts)
            f.readline()  # move to the next line start
            points.append(min(f.tell(), size))
    points.append(size)
    return sorted(set(points))


def index_file(path: str | os.PathLike[str], workers: int | None = None) -> FileIndex:
    """Index a whole file: split at line boundaries, one process per part (both cores here)."""
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size == 0:
        return FileIndex(path, 0, np.zeros(0, np.uint64), np.zeros(0, np.uint8))
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers == 1 or size < MIN_SPLIT:
        offsets, kinds = _index_range(path, 0, size)
        return FileIndex(path, size, offsets, kinds)
    points = _split_points(path, size, workers)
    ranges = list(zip(points[:-1], points[1:]))
    # Forks on Linux when this is the only thread: a child per part sends its arrays back raw through a pipe (a
    # process pool pickled them: 45 ms of 0.35 s on a 147 MB log), and this process grows by the index alone,
    # 9 bytes a line (indexing a part here left its freed temporaries in the heap: 15 bytes a line; threads'
    # malloc arenas keep theirs too). Threads elsewhere (no fork on macOS), where numpy releases the GIL.
    if sys.platform == "linux" and threading.active_count() == 1:
        offsets, kinds = _index_forked(path, ranges)
        return FileIndex(path, size, offsets, kinds)
    else:
        from concurrent.futures import ThreadPoolExecutor  # here only: ~9 ms of start-up

        with ThreadPoolExecutor(len(ranges)) as pool:
            parts = list(pool.map(lambda r: _index_range(path, *r), ranges))
    return FileIndex(path, size, np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


MIN_SPLIT = 8 << 20  # bytes below which one process indexes the whole file


def _index_forked(path: str, ranges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """A forked child per part; their arrays read straight into the index's own (no part held twice)."""
    children = []
    try:
        for start, stop in ranges:
            read_end, write_end = os.pipe()
            try:
                pid = os.fork()
            except OSError:  # no process to be had: the pipe goes too, and the error says why
                os.close(read_end)
                os.close(write_end)
                raise
            if pid == 0:  # the child: never returns
                os.close(read_end)
                _send_part(write_end, path, start, stop)
            os.close(write_end)
            children.append((pid, open(read_end, "rb")))
        counts = [_part_count(source, path) for _, source in children]  # each child sends its count first
        offsets = np.empty(sum(counts), np.uint64)
        kinds = np.empty(sum(counts), np.uint8)
        at = 0
        for (_, source), count in zip(children, counts):
            _read_exactly(source, memoryview(offsets[at:at + count]).cast("B"), path)
            _read_exactly(source, memoryview(kinds[at:at + count]), path)
            at += count
        return offsets, kinds
    finally:
        for pid, source in children:
            source.close()
            os.waitpid(pid, 0)


def _send_part(fd: int, path: str, start: int, stop: int) -> None:
    """In a forked child: index a part and write its line count, offsets and kinds to fd, then exit."""
    status = 1
    try:
        offsets, kinds = _index_range(path, start, stop)
        with open(fd, "wb", closefd=True) as out:
            out.write(np.int64(len(offsets)).tobytes())
            out.write(memoryview(offsets).cast("B"))
            out.write(memoryview(kinds))
        status = 0
    finally:
        os._exit(status)


def _part_count(source, path: str) -> int:
    head = source.read(8)
    count = int(np.frombuffer(head, np.int64)[0]) if len(head) == 8 else -1
    if count < 0:
        raise OSError(f"{path}: a process indexing part of it failed")
    return count


def _read_exactly(source, into: memoryview, path: str) -> None:
    got = 0
    while got < len(into):
        n = source.readinto(into[got:])
        if not n:
            raise OSError(f"{path}: a process indexing part of it stopped early")
        got += n
