"""Line index and fast classification: offsets and a kind per line, for whole chunks at once.

The fast path never builds a Python object per line. Newlines are found with
numpy; each line's kind (which parser applies, and whether the model tracks it)
comes from its first and last bytes, compared for all lines at once, and from
literal searches whose hits are mapped to lines by binary search. Fields are
parsed later, and only for lines that are shown or tracked.

Memory: 8 bytes of offset and 1 byte of kind per line, in fixed blocks.
"""

from __future__ import annotations

import mmap
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from venustui.parse.families import FAMILIES

# Formats (low 7 bits) and the tracked flag (high bit).
TEXT, MESA, ENV, VKR, SERVER, VTEST, LDSO, MVK, STEP, KERNEL = range(10)
FORMAT_NAMES = ("text", "mesa", "mesa", "vkr", "vkr-server", "vtest", "ldso", "mvk", "step", "kernel")
TRACKED = 0x80

# Markers found anywhere in a line, each with the index of a rare byte of it to anchor the search on.
_SERVER_AND_ANYWHERE = (
    (b"vkr: ", 1, SERVER),
    (b"' not found (required by ", 0, LDSO),
    (b"error while loading shared libraries", 33, LDSO),
    (b"SIGSEGV!", 7, VTEST),
    (b"proxy: failed to exec ", 3, VTEST),
    (b"kernel: ", 0, KERNEL),
    (b"-> crash: ", 1, STEP),
    (b"polls until signaled ", 6, STEP),
    (b"status polls/s: ", 7, STEP),
)
_VKR_TRACKED_ANYWHERE = ((b"ret=-", 4), (b"returned -", 9), (b"device=0x", 6))


def _anchor(literal: bytes) -> int:
    """The byte of a literal to search for first, one rare in log text: an uppercase letter, else a byte that
    is neither a lowercase letter, a space nor a bracket, else the first."""
    upper = next((k for k, byte in enumerate(literal) if 65 <= byte <= 90), None)
    if upper is not None:
        return upper
    return next((k for k, byte in enumerate(literal) if not (97 <= byte <= 122 or byte in b" []")), 0)


# Lines of other programs that may hold a family's payload: behind an envelope (a stamp, a journald or
# macOS prefix, an indent) or glued after other output. The parser peels the envelope; the fast path
# only has to send such lines to it. Derived from the families' own markers (parse/families.py).
ENVELOPED_MARKERS = tuple((m, _anchor(m)) for m in dict.fromkeys(
    (b"MESA-VIRTIO:", b"[VKR]", b"vn_", b"[mvk-", b"render_server")
    + tuple(m for family in FAMILIES for m in family.tracked)))
_KERNEL_TRACKED = ((b"*ERROR*", 0), (b"[drm", 1), (b"virtio", 0))
_TRACKED_IF = tuple((marker, _anchor(marker), tuple((w, _anchor(w)) for w in words))
                    for marker, words in (f.tracked_if for f in FAMILIES if f.tracked_if))
# The [VKR] functions the model follows, compared as the 8 bytes after "[VKR] " (and an optional "vk").
_TRACKED_VKR_FUNCTIONS = (b"CreateFence", b"DestroyFence", b"ResetFences", b"QueueSubmit", b"GetFenceStatus",
                          b"WaitForFences", b"GetDeviceQueue", b"CreateDevice")
_TRACKED_WORDS = np.array([int.from_bytes(f[:8], "little") for f in _TRACKED_VKR_FUNCTIONS], dtype=np.uint64)
_SHIFTS = np.arange(8, dtype=np.uint64) * np.uint64(8)


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


def classify(buf, starts: np.ndarray, base: int = 0) -> np.ndarray:
    """A kind byte per line: format in the low bits, TRACKED when the model needs the line parsed."""
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

    # Lookups a few bytes before or after a line read zeros, not a neighbour's bytes out of range.
    padded = np.zeros(len(arr) + 16, dtype=np.uint8)
    padded[:len(arr)] = arr
    at = padded.__getitem__

    b0, b1, b2, b3 = at(local), at(local + 1), at(local + 2), at(local + 3)
    bracket = b0 == ord("[")
    digit1 = (b1 >= ord("0")) & (b1 <= ord("9"))
    kinds[bracket & ((b1 == ord(" ")) | digit1)] = KERNEL  # dmesg's "[   12.345678] ..."
    kinds[(b0 == ord("<")) & digit1 & (b2 == ord(">"))] = KERNEL
    kinds[(b0 == ord("M")) & (b1 == ord("E")) & (b2 == ord("S")) & (b3 == ord("A"))] = MESA | TRACKED
    kinds[b0 == ord("\t")] = ENV | TRACKED
    kinds[(b0 == ord("v")) & (b1 == ord("t")) & (b2 == ord("e")) & (b3 == ord("s"))] = VTEST | TRACKED
    kinds[(b0 == ord("c")) & (b1 == ord("l")) & (b2 == ord("i")) & (b3 == ord("e"))] = VTEST | TRACKED
    digit0 = (b0 >= ord("0")) & (b0 <= ord("9"))
    kinds[digit0 & ((b1 == ord(".")) | (digit1 & (b2 == ord("."))))] = STEP | TRACKED

    mvk = bracket & (b1 == ord("m")) & (b2 == ord("v")) & (b3 == ord("k"))
    b5 = at(local + 5)
    kinds[mvk] = MVK
    kinds[mvk & ((b5 == ord("e")) | (b5 == ord("w")))] = MVK | TRACKED

    vkr = np.flatnonzero(bracket & (b1 == ord("V")) & (b2 == ord("K")) & (b3 == ord("R")))
    kinds[vkr] = VKR
    if len(vkr):
        fn = local[vkr] + 6
        fn += 2 * ((at(fn) == ord("v")) & (at(fn + 1) == ord("k")))
        word = np.zeros(len(vkr), dtype=np.uint64)
        for k in range(8):
            word |= at(fn + k).astype(np.uint64) << _SHIFTS[k]
        kinds[vkr[np.isin(word, _TRACKED_WORDS)]] |= TRACKED
    # Progress lines like "device ok" / "alloc failed": lowercase start, status word at the end.
    lower0 = (b0 >= ord("a")) & (b0 <= ord("z"))
    e1, e2, e3 = at(ends - 1), at(ends - 2), at(ends - 3)
    ok = (e3 == ord(" ")) & (((e2 == ord("o")) & (e1 == ord("k"))) | ((e2 == ord("O")) & (e1 == ord("K"))))
    failed = (e3 == ord("l")) & (e2 == ord("e")) & (e1 == ord("d"))
    kinds[lower0 & (ok | failed) & (ends - local < 60) & (kinds == TEXT)] = STEP | TRACKED

    # Markers in the middle of a line are searched for only in the lines that still need them,
    # gathered into a small buffer: far fewer bytes than the chunk when most lines have a prefix.
    text = np.flatnonzero(kinds == TEXT)
    sub, sub_starts = _gather(buf, local[text], ends[text])
    for literal, anchor, fmt in _SERVER_AND_ANYWHERE:
        hit = _lines_in(sub_starts, _find_literal(sub, literal, anchor))
        if len(hit):
            lines = text[hit]
            lines = lines[kinds[lines] == TEXT]
            kinds[lines] = fmt | TRACKED
    text = np.flatnonzero(kinds == TEXT)
    if len(text):
        sub, sub_starts = _gather(buf, local[text], ends[text])
        for literal, anchor in ENVELOPED_MARKERS:
            kinds[text[_lines_in(sub_starts, _find_literal(sub, literal, anchor))]] |= TRACKED
        for marker, anchor, words in _TRACKED_IF:  # e.g. QEMU's lines: only those that say something failed
            some = _lines_in(sub_starts, _find_literal(sub, marker, anchor))
            if len(some):
                said = np.concatenate([_lines_in(sub_starts, _find_literal(sub, word, word_anchor))
                                       for word, word_anchor in words])
                kinds[text[np.intersect1d(some, said)]] |= TRACKED
    kernel = np.flatnonzero(kinds == KERNEL)
    if len(kernel):  # errors, and the virtio-gpu device's features, capsets and host memory window
        sub, sub_starts = _gather(buf, local[kernel], ends[kernel])
        for literal, anchor in _KERNEL_TRACKED:
            kinds[kernel[_lines_in(sub_starts, _find_literal(sub, literal, anchor))]] |= TRACKED
    untracked_vkr = np.flatnonzero(kinds == VKR)
    if len(untracked_vkr):
        sub, sub_starts = _gather(buf, local[untracked_vkr], ends[untracked_vkr])
        # A failing call of any function is notable; a line naming a device sets the host
        # device of what follows.
        for literal, anchor in _VKR_TRACKED_ANYWHERE:
            kinds[untracked_vkr[_lines_in(sub_starts, _find_literal(sub, literal, anchor))]] |= TRACKED
    return kinds


def _gather(buf, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of the given lines, newline-separated, and where each starts in that buffer.
    (bytes.join of slices: a few times faster than gathering by an index per byte.)"""
    sub_starts = np.zeros(len(starts), dtype=np.int64)
    if len(starts) > 1:
        np.cumsum(ends[:-1] - starts[:-1] + 1, out=sub_starts[1:])
    pieces = [buf[start:end] for start, end in zip(starts.tolist(), ends.tolist())]
    pieces.append(b"")  # the last line ends with a newline too, even where the buffer had none
    return np.frombuffer(b"\n".join(pieces), dtype=np.uint8), sub_starts


def _lines_in(sub_starts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    if not len(positions):
        return positions
    return np.unique(np.searchsorted(sub_starts, positions, side="right") - 1)


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
            view = memoryview(mm)[pos:end]
            try:
                starts = line_starts(view, pos)
                offsets.append(starts.astype(np.uint64))
                kinds.append(classify(view, starts, pos))
            finally:
                view.release()
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
    if workers == 1 or size < (8 << 20):
        offsets, kinds = _index_range(path, 0, size)
        return FileIndex(path, size, offsets, kinds)
    points = _split_points(path, size, workers)
    with ProcessPoolExecutor(len(points) - 1, mp_context=_fork()) as pool:
        parts = list(pool.map(_index_range, [path] * (len(points) - 1), points[:-1], points[1:]))
    return FileIndex(path, size, np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def _fork():
    import multiprocessing

    return multiprocessing.get_context("fork")
