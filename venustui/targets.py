"""Which program to rerun with flags toggled: the built-in probe, a [targets.NAME] from the config,
or an ARGV given on the command line. One resolver for the TUI's reruns and for triage."""

from __future__ import annotations

from collections.abc import Sequence

from venustui.config import Config
from venustui.errors import UserError
from venustui.probe.runner import PROBE, Target


def resolve_target(cfg: Config, name: str | None = None, argv: Sequence[str] = ()) -> Target:
    """The target named by ``--target NAME`` or ``-- ARGV…``; the probe when neither is given."""
    if argv and name:
        raise UserError("give either --target NAME or -- ARGV…, not both")
    if argv:
        return Target("argv", tuple(argv))
    if not name:
        return PROBE
    found = next((t for t in cfg.targets if t.name == name), None)
    if found is None:
        names = ", ".join(t.name for t in cfg.targets) or "none configured"
        raise UserError(f"--target {name}: no such target in the config (known: probe, {names})")
    return Target(found.name, found.argv)
