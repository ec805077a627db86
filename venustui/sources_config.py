"""Which sources to read: the SOURCE arguments given, else the config's ``sources``. One resolver
for every command that reads logs, so each turns the same texts into the same specs."""

from __future__ import annotations

from collections.abc import Sequence

from venustui.config import Config
from venustui.errors import UserError
from venustui.sources import SourceSpec, parse_spec

NO_SOURCES = ("no sources: give SOURCE… (a log file, a glob, '-' or cmd:ARGV) or set 'sources' "
              "in the config file")


def resolve_sources(given: Sequence[str], cfg: Config, *, required: bool = True) -> list[SourceSpec]:
    """Specs for ``given``, or for the config's sources when none are given.

    With neither, raise UserError when ``required``, else return [] (the TUI then falls back on the lab).
    """
    texts = list(given) or list(cfg.sources)
    if not texts and required:
        raise UserError(NO_SOURCES)
    return [parse_spec(t) for t in texts]
