"""Many literals found in a buffer at once, with numpy: the index's search for the registry's markers.

Each literal is anchored on its rarest pair of bytes (guessed from how common letters are in log text,
then counted in the text searched); the pairs are split into eight groups, and two translations of the
buffer (``bytes.translate``: a byte to the groups whose pairs start with it, and to those whose pairs end
with it) and an AND of neighbours give the places where some group's first and second bytes meet. Those
candidates are checked against the exact pairs, then every literal at once, 8 bytes at a time: a few passes
over the buffer whatever the number of literals. (A lookup of every pair in a 64K table cost twice as
much: numpy widens a 16-bit index to 64 bits before indexing.)
"""

from __future__ import annotations

import numpy as np

# How common a byte is in log text, for choosing which two bytes of a literal to search for first.
_LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
_WEIGHT = np.ones(256)
_WEIGHT[ord(" ")] = 16
for _rank, _char in enumerate(_LETTERS):
    _WEIGHT[ord(_char)] = 10 - 9 * _rank / (len(_LETTERS) - 1)
for _char in b"0123456789":
    _WEIGHT[_char] = 4
for _char in b".:=,/_-()\t":
    _WEIGHT[_char] = 3
for _char in b"[]ERSTIAON":
    _WEIGHT[_char] = 2
_COMMON_PAIRS = (b"0x", b": ", b"] ", b" [", b", ", b"= ", b" =", b"e=")  # every handle, field and prefix


def _anchor_pair(literal: bytes) -> int:
    """Where in a literal its rarest pair of bytes starts."""
    scores = [(1e6 if literal[k:k + 2] in _COMMON_PAIRS else _WEIGHT[literal[k]] * _WEIGHT[literal[k + 1]], k)
              for k in range(len(literal) - 1)]
    return min(scores)[1]


TUNE_AFTER = 256 << 10  # bytes in one search before the anchors are chosen by counting
GROUPS = 8  # anchor pairs are split into this many groups, a bit of a byte each


class Literals:
    """Literals searched for together (the module's docstring says how)."""

    def __init__(self, literals) -> None:
        self.literals = tuple(dict.fromkeys(literals))
        if any(len(literal) < 2 for literal in self.literals):
            raise ValueError("a literal searched for needs two bytes at least")
        self.tuned = False
        self.starting = self.ending = b""  # the two translations (unused one by one)
        # A few literals are found faster one by one, each by its rarest pair (a compare per pair is cheaper
        # than two translations, for up to about six literals).
        self.one_by_one = len(self.literals) <= 6
        self._anchor_on(tuple(map(_anchor_pair, self.literals)), None)
        self.lengths = np.array([len(literal) for literal in self.literals], dtype=np.int64)
        # Each literal as 8-byte little-endian words under masks (its last word partly masked).
        words = max(1, -(-max(map(len, self.literals), default=1) // 8))
        self.masks = np.zeros((len(self.literals), words), dtype=np.uint64)
        self.values = np.zeros((len(self.literals), words), dtype=np.uint64)
        for k, literal in enumerate(self.literals):
            for w in range(0, len(literal), 8):
                part = literal[w:w + 8]
                self.masks[k, w // 8] = (1 << (8 * len(part))) - 1
                self.values[k, w // 8] = int.from_bytes(part, "little")

    def _anchor_on(self, anchors: tuple[int, ...], counts: np.ndarray | None) -> None:
        """Anchor the literals, and group their pairs so that few other pairs of the text pass the groups' test
        (by the pairs' counts in the text, else by how common their bytes are in log text)."""
        self.anchors = anchors
        self.offsets = np.array(anchors, dtype=np.int64)
        self.pairs = np.array([lit[a] | lit[a + 1] << 8 for lit, a in zip(self.literals, anchors)], np.uint16)
        self.table = np.zeros(65536, dtype=bool)
        self.table[self.pairs] = True
        if self.one_by_one:
            return
        def count(first: int, second: int) -> float:
            return float(counts[first | second << 8]) if counts is not None else _WEIGHT[first] * _WEIGHT[second]
        firsts: list[set[int]] = [set() for _ in range(GROUPS)]
        seconds: list[set[int]] = [set() for _ in range(GROUPS)]
        def added(g: int, first: int, second: int) -> float:  # pairs a group lets through once this one joins
            cost = 0.0
            if first not in firsts[g]:
                cost += sum(count(first, y) for y in seconds[g] | {second})
            if second not in seconds[g]:
                cost += sum(count(x, second) for x in firsts[g])
            return cost
        unique = sorted({(int(p) & 0xFF, int(p) >> 8) for p in self.pairs}, key=lambda fs: -count(*fs))
        for first, second in unique:
            g = min(range(GROUPS), key=lambda g: added(g, first, second))
            firsts[g].add(first)
            seconds[g].add(second)
        starting, ending = bytearray(256), bytearray(256)
        for g in range(GROUPS):
            for byte in firsts[g]:
                starting[byte] |= 1 << g
            for byte in seconds[g]:
                ending[byte] |= 1 << g
        self.starting, self.ending = bytes(starting), bytes(ending)

    def _tune(self, data: bytes) -> None:
        """Anchor each literal on its pair rarest in the text actually searched (the guess by letters can be
        far off: a log full of handles makes "=0" common), counted once, on a buffer of some size."""
        sample = np.frombuffer(data, np.uint8, count=TUNE_AFTER)
        counts = np.bincount(sample[:-1].astype(np.uint16) | (sample[1:].astype(np.uint16) << 8), minlength=65536)
        self._anchor_on(tuple(min(range(len(lit) - 1), key=lambda k, lit=lit: counts[lit[k] | lit[k + 1] << 8])
                              for lit in self.literals), counts)
        self.tuned = True

    def find(self, buf) -> tuple[np.ndarray, np.ndarray]:
        """Where the literals are in buf (bytes-like): start positions, and which literal (its place in
        ``literals``) starts there, ordered by literal."""
        padded = b"".join((buf, bytes(8)))  # one copy; words read at a literal's last bytes may pass the end
        n = len(padded) - 8
        arr = np.frombuffer(padded, np.uint8, count=n)
        if n < 2 or not self.literals:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if not self.tuned and n >= TUNE_AFTER:
            self._tune(padded)
        if self.one_by_one:
            even = arr[:n - n % 2].view("<u2")  # the pairs starting at even places, then at odd ones
            odd = arr[1:n - (n - 1) % 2].view("<u2")
            hits = [np.concatenate((np.flatnonzero(even == pair) * 2, np.flatnonzero(odd == pair) * 2 + 1))
                    for pair in self.pairs.tolist()]
            sizes = np.array([len(h) for h in hits], dtype=np.int64)
            places = np.concatenate(hits)
        else:
            starting = np.frombuffer(padded.translate(self.starting), np.uint8, count=n)
            ending = np.frombuffer(padded.translate(self.ending), np.uint8, count=n)
            cand = np.flatnonzero((starting[:-1] & ending[1:]) != 0)
            pair = arr[cand].astype(np.uint16) | (arr[cand + 1].astype(np.uint16) << 8)
            exact = self.table[pair]
            pair, cand = pair[exact], cand[exact]
            order = np.argsort(pair, kind="stable")
            pair, cand = pair[order], cand[order]
            lows = np.searchsorted(pair, self.pairs, "left")
            sizes = np.searchsorted(pair, self.pairs, "right") - lows
            # Each literal's candidates, one after another (a pair two literals share is a candidate of both).
            first_of = np.zeros(len(sizes), dtype=np.int64)
            np.cumsum(sizes[:-1], out=first_of[1:])
            places = cand[np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(lows - first_of, sizes)]
        which = np.repeat(np.arange(len(self.literals), dtype=np.int64), sizes)
        return self._verify(padded, places - self.offsets[which], which)

    def _verify(self, padded: bytes, pos: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidates (a literal's start, and which literal) where the whole literal is: compared 8 bytes
        at a time, every literal at once. padded is the text and 8 zero bytes."""
        n = len(padded) - 8
        inside = (pos >= 0) & (pos + self.lengths[which] <= n)
        pos, which = pos[inside], which[inside]
        if not len(pos):
            return pos, which
        words = np.ndarray((n + 1,), dtype="<u8", buffer=padded, strides=(1,))
        for k in range(self.masks.shape[1]):
            if k:
                longer = self.masks[which, k] != 0
                if not longer.any():
                    break
                at, lit = pos[longer] + 8 * k, which[longer]
                ok = np.ones(len(pos), dtype=bool)
                ok[longer] = (words[at] & self.masks[lit, k]) == self.values[lit, k]
            else:
                ok = (words[pos] & self.masks[which, 0]) == self.values[which, 0]
            pos, which = pos[ok], which[ok]
        return pos, which
