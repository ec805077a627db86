"""Folding chunks into the model: every line indexed and counted, only tracked lines parsed.

The fast path (``plan``) handles a chunk with a few vectorized passes (line
offsets, kinds, handle values) and needs nothing but its bytes; the slow path
builds Line objects and Records only for lines the model follows (see
``index.classify``). Both run in line order, so folding the same bytes in any
chunking reaches the same state.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass
from itertools import repeat
from typing import NamedTuple

import numpy as np

from venustui.events import Chunk, Record
from venustui.index import DEFAULT, FORMAT_NAMES, TEXT, TRACKED, Classifier, handle_values, line_starts
from venustui.model import Model
from venustui.parse import Parser


class Folded(NamedTuple):
    """The chunk folded last, with what the fast path found in it."""

    chunk: Chunk
    starts: np.ndarray
    kinds: np.ndarray


@dataclass(slots=True)
class Layout:
    """What the fast path learns of a chunk from its bytes alone (no model state): it can be
    computed ahead, in another process, and folded later."""

    seq: int  # the chunk's first line number, to check a layout meets its chunk
    starts: np.ndarray  # each line's start within the chunk's data
    kinds: np.ndarray  # each line's kind byte (index.classify), TRACKED set by this ingest's options
    # Handles in lines the slow path will not parse: line index and value, in order, once per line.
    # None when the groups came ahead (a replay's helper): only a line that changes the handle
    # context needs them, and then they are found again (far cheaper than sending them every time);
    # None with no groups: left for the fold to find.
    hit_lines: np.ndarray | None
    hit_values: np.ndarray | None
    # Per tracked line, its records' parts (Parser.parts), when parsed ahead (a replay's helper
    # process parses too: tuples cross a pipe far faster than Records).
    parsed: list[tuple[tuple, ...]] | None = None
    groups: list[tuple] | None = None  # group_hits of all the hits, when computed ahead

    def to_bytes(self) -> bytes:
        """For a pipe to a process of the same Python: marshal builds the parsed tuples back twice
        as fast as pickle writes them, and the arrays travel as their bytes, but for the line
        starts: the other process has the chunk and finds them faster than it could read them."""
        groups = hits = None
        if self.groups is not None:
            groups = [(code, *(a.tobytes() for a in arrays)) for code, *arrays in self.groups]
        elif self.hit_lines is not None:
            hits = (self.hit_lines.tobytes(), self.hit_values.tobytes())
        return marshal.dumps((self.seq, self.kinds.tobytes(), hits, self.parsed, groups))

    @classmethod
    def from_bytes(cls, blob: bytes, data: bytes) -> "Layout":
        """The layout to_bytes made of the chunk whose data this is."""
        seq, kinds, hits, parsed, groups = marshal.loads(blob)
        hit_lines = hit_values = None
        if hits is not None:
            hit_lines, hit_values = np.frombuffer(hits[0], np.int64), np.frombuffer(hits[1], np.uint64)
        if groups is not None:
            groups = [(code, np.frombuffer(unique, np.uint64), np.frombuffer(first, np.int64),
                       np.frombuffer(last, np.int64), np.frombuffer(counts, np.int64))
                      for code, unique, first, last, counts in groups]
        return cls(seq, line_starts(data), np.frombuffer(kinds, np.uint8), hit_lines, hit_values, parsed, groups)


def plan(chunk: Chunk, *, parse_all: bool = False, track_text: bool = False, parser: Parser | None = None,
         find_sightings: bool = True, classifier: Classifier = DEFAULT) -> Layout:
    """The chunk's layout; with a parser, its tracked lines parsed too. Without find_sightings the
    untracked lines' handles are left for the fold to find (a replay's helper leaves them when the
    fold is waiting for it: the two processes share the work)."""
    data = chunk.data
    starts = line_starts(data)
    kinds = classifier.classify(data, starts)
    if parse_all:
        kinds |= TRACKED
    elif track_text:
        kinds[kinds == TEXT] = TEXT | TRACKED
    hit_lines, hit_values = _untracked_handles(data, starts, kinds) if find_sightings else (None, None)
    layout = Layout(chunk.seq, starts, kinds, hit_lines, hit_values)
    if parser is not None:
        tracked = np.flatnonzero(kinds & TRACKED)
        ends = _line_ends(starts, chunk)
        parts, source, stream = parser.parts, chunk.source, chunk.stream
        layout.parsed = [parts(source, stream, data[start:end])
                         for start, end in zip(starts[tracked].tolist(), ends[tracked].tolist())]
        if find_sightings:
            layout.groups = group_hits(kinds, hit_lines, hit_values)  # used when no line changes the context
    return layout


def _line_ends(starts: np.ndarray, chunk: Chunk) -> np.ndarray:
    """Each line's end within the chunk's data (its newline, or the end of a partial last line)."""
    ends = np.empty(len(starts), dtype=np.int64)
    ends[:-1] = starts[1:] - 1
    if len(ends):
        ends[-1] = len(chunk.data) - (0 if chunk.partial else 1)
    return ends


def _untracked_handles(data: bytes, starts: np.ndarray, kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Line index and value of each handle in lines the slow path will not parse, in order."""
    positions, values = handle_values(data)
    if not len(positions):
        return positions, values
    lines = np.searchsorted(starts, positions, side="right") - 1
    keep = (kinds[lines] & TRACKED) == 0
    lines, values = lines[keep], values[keep]
    same_line = lines[1:] == lines[:-1]
    if same_line.any():  # a value printed twice on one line counts once: the first stays
        several = np.zeros(len(lines), dtype=bool)
        several[1:] |= same_line
        several[:-1] |= same_line
        at = np.flatnonzero(several)
        order = at[np.lexsort((at, values[at], lines[at]))]  # by line, value, then place
        again = (lines[order[1:]] == lines[order[:-1]]) & (values[order[1:]] == values[order[:-1]])
        first = np.ones(len(lines), dtype=bool)
        first[order[1:][again]] = False
        lines, values = lines[first], values[first]
    return lines, values


class Ingest:
    def __init__(self, parser: Parser, model: Model, *, parse_all: bool = False):
        self.parser = parser
        self.model = model
        self.parse_all = parse_all  # every line on the slow path (tests prove both paths agree)
        # User rules join the fast path by their markers; one without any may match any plain line.
        markers = tuple(m for family in parser.user_families for m in family.tracked)
        self.track_text = any(not family.tracked for family in parser.user_families)
        self.classifier = Classifier(extra=markers) if markers else DEFAULT
        self.slow_lines = 0
        self.folded: Folded | None = None  # the chunk folded last, with its line starts and kinds

    def plan(self, chunk: Chunk) -> Layout:
        return plan(chunk, parse_all=self.parse_all, track_text=self.track_text, classifier=self.classifier)

    def fold(self, chunk: Chunk, layout: Layout | None = None) -> list[Record]:
        """Index, count and fold one chunk (laid out ahead or now); returns the records of the lines it parsed."""
        if chunk.overflow:
            self.model.count_overflow(chunk.source, len(chunk.data), chunk.wall)
            return []
        if chunk.cut:
            self.model.cut_lines[chunk.source] += 1
        if layout is None or layout.seq != chunk.seq or len(layout.starts) != chunk.count:
            layout = self.plan(chunk)
        starts, kinds = layout.starts, layout.kinds
        self.folded = Folded(chunk, starts, kinds)  # a screen's line store reuses it instead of classifying again
        by_format: dict[str, int] = {}
        for code, count in enumerate(np.bincount(kinds & 0x7F, minlength=len(FORMAT_NAMES)).tolist()):
            if count:
                name = FORMAT_NAMES[code]
                by_format[name] = by_format.get(name, 0) + count
        self.model.count_lines(chunk.source, by_format, chunk.wall, chunk.seq)

        ends = _line_ends(starts, chunk)
        hit_lines, hit_values = layout.hit_lines, layout.hit_values
        if hit_lines is None and layout.groups is None:
            hit_lines, hit_values = _untracked_handles(chunk.data, starts, kinds)
        flushed = 0  # hits before this index are folded
        records: list[Record] = []
        model = self.model
        fold_record, changes_context, parts_of = model.fold_record, model.changes_handle_context, self.parser.parts
        source, stream, parsed = chunk.source, chunk.stream, layout.parsed
        tracked = np.flatnonzero(kinds & TRACKED)
        for k, (i, start, end) in enumerate(zip(tracked.tolist(), starts[tracked].tolist(), ends[tracked].tolist())):
            line = chunk.line(start, end, i)
            for parts in parts_of(source, stream, line.data) if parsed is None else parsed[k]:
                record = Record(line, *parts)
                if changes_context(record):  # the sightings before it keep the context they had
                    if hit_lines is None:
                        hit_lines, hit_values = _untracked_handles(chunk.data, starts, kinds)
                    upto = int(np.searchsorted(hit_lines, i))
                    self._fold_hits(chunk, group_hits(kinds, hit_lines[flushed:upto], hit_values[flushed:upto]))
                    flushed = upto
                fold_record(record)
                records.append(record)
        self.slow_lines += len(tracked)
        if flushed == 0 and layout.groups is not None:
            self._fold_hits(chunk, layout.groups)
        else:
            self._fold_hits(chunk, group_hits(kinds, hit_lines[flushed:], hit_values[flushed:]))
        return records

    def _fold_hits(self, chunk: Chunk, groups: list[tuple]) -> None:
        """One model update per (value, format) group of sightings, not per line."""
        for code, unique, first, last, counts in groups:
            side, run, device = self.model.handle_context(chunk.source, FORMAT_NAMES[code])
            seq = chunk.seq
            sightings = zip(unique.tolist(), (first + seq).tolist(), (last + seq).tolist(), counts.tolist(),
                            repeat(None))
            self.model.see_handles(sightings, chunk.source, side, run, device, chunk.wall)


def group_hits(kinds: np.ndarray, lines: np.ndarray, values: np.ndarray) -> list[tuple]:
    """Sightings grouped per format and value: (format, values, first line, last line, count)."""
    if not len(lines):
        return []
    groups = []
    formats = kinds[lines] & 0x7F
    for code in np.unique(formats).tolist():
        mask = formats == code
        vals, at = values[mask], lines[mask]
        order = np.argsort(vals, kind="stable")  # equal values stay in line order
        ordered = vals[order]
        ends = np.flatnonzero(ordered[1:] != ordered[:-1])
        begins = np.concatenate(([0], ends + 1))
        ends = np.append(ends, len(ordered) - 1)
        groups.append((code, ordered[begins], at[order[begins]], at[order[ends]], ends - begins + 1))
    return groups
