"""Every process-wide knob venustui turns, in one place, each with the measurement that justifies it.

- GC thresholds (``tune_gc()`` for sessions; ``tune_gc(screen=True)`` once a screen is up, for good):
  a session holds a large, long-lived model and makes many short-lived objects per batch; with
  CPython's defaults full collections stalled the fold ~100 ms at a time. Headless, young
  collections are large and few (50,000, 20, 1000: throughput); with a screen they are small and
  frequent (2,000, 3, 10,000), each under 10 ms (the middle generation collected every tenth young
  one made each take 10-22 ms under a flood).
- ``gc.freeze()`` (``for_screen()``): what start-up made lives as long as the app; later
  collections skip it.
- malloc's mmap threshold fixed at 128 KiB (``return_freed_blocks()``, live sessions): glibc raises
  the threshold each time it frees a large block, so later chunk buffers came from the heap and its
  holes stayed: over a 10-minute flood the TUI grew 211 MB beyond the line store, 76 MB with the
  fixed threshold. Not glibc: nothing to do.
- OpenBLAS on one thread while numpy loads (``load_numpy_quietly()``, the command line's first step): it
  starts a spinning thread per core, 0.06-0.1 s of CPU at every start (diagnose on a paste: 0.33 s of
  process time beyond the interpreter's start, 0.25 s without); the user's setting is restored after.
- ``sys.setswitchinterval(0.001)`` (``for_screen()``): the fold runs on another thread; with the
  default 5 ms slice keys waited behind it, with 1 ms they are answered within milliseconds.
- ``TEXTUAL_FPS=240`` unless set (``textual_fps()``, from ``venustui.tui`` before Textual is
  imported): Textual coalesces refreshes for 1/FPS before a screen update; at its default 60 a key
  waited ~17 ms for its update to start. Our redraws are timed, so this paints no more often.

One more knob is Textual's own and so lives beside it: ``venustui.tui.strips`` stops
``Strip.divide`` and ``Strip.crop_extend`` caching a strip on itself (every drawn line was cyclic
garbage: 11 bytes a line over a 10-minute flood), installed by ``venustui.tui.app``.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys

_for_screen = False
M_MMAP_THRESHOLD = -3  # mallopt(3)
SCREEN_SWITCH_INTERVAL = 0.001


def tune_gc(screen: bool = False) -> None:
    """Collection thresholds for a session: throughput headless, short pauses once a screen is up (for good)."""
    global _for_screen
    _for_screen = _for_screen or screen
    gc.set_threshold(*((2_000, 3, 10_000) if _for_screen else (50_000, 20, 1000)))


def for_screen() -> None:
    """Everything a screen needs of the process: short collections, start-up frozen, short thread slices."""
    tune_gc(screen=True)
    gc.freeze()
    sys.setswitchinterval(SCREEN_SWITCH_INTERVAL)


def return_freed_blocks() -> None:
    """Large blocks in mappings of their own, given back when freed (glibc; elsewhere nothing to do)."""
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


def load_numpy_quietly() -> None:
    """Import numpy with its OpenBLAS on one thread, then give the user's setting back (for the children we
    start): OpenBLAS starts a spinning thread per core when it loads, ~0.1 s of CPU at every start-up, and
    venustui does no linear algebra."""
    if "numpy" in sys.modules:
        return
    previous = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        import numpy  # noqa: F401
    finally:
        if previous is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = previous


def textual_fps() -> None:
    """Textual's frame rate, unless the user chose one; read once, when Textual is first imported."""
    os.environ.setdefault("TEXTUAL_FPS", "240")
