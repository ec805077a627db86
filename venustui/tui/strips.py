"""One change to how Textual caches line strips, so that rendering makes no cyclic garbage.

Textual's ``Strip.divide`` and ``Strip.crop_extend`` cache their result on the strip itself, and
when the cut or crop changes nothing that result is the strip (``[self]``, ``self``): every line
the compositor draws then refers to itself and only a full collection can free it. The TUI keeps
full collections rare (``session.tune_gc``: each takes ~100 ms, a key would wait), so under a
flood those lines piled up at ~1 MB/s (a 10-minute run grew by 11 bytes a line beyond the index).
Here the no-op cases return the strip without caching it: the same results, freed by reference
counting. ``tests/test_tui.py`` checks that a flood leaves no strip for the collector.
"""

from __future__ import annotations

from textual.strip import Strip

_divide = Strip.divide
_crop_extend = Strip.crop_extend


def _divide_without_self(self: Strip, cuts):
    cuts = list(cuts)
    length = self.cell_length
    if [cut for cut in cuts if cut <= length] == [length]:
        return [self]
    return _divide(self, cuts)


def _crop_extend_without_self(self: Strip, start: int, end: int, style):
    if start == 0 and end == self.cell_length:
        return self
    return _crop_extend(self, start, end, style)


def install() -> None:
    Strip.divide = _divide_without_self
    Strip.crop_extend = _crop_extend_without_self
