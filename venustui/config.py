"""The configuration file: where it lives, what it may hold, and one-line errors for what it must not.

One TOML file, ``$XDG_CONFIG_HOME/venustui/config.toml`` (``~/.config/...`` when the
variable is unset) or the path given with ``--config``. Sections:

    sources = ["host=/var/log/virgl.log", "guest=cmd:ssh guest journalctl -f"]

    [parse]
    mesa_version = "25.0"       # decode VN_DEBUG/VN_PERF masks for this Mesa

    [[rules]]                   # user line rules, tried before the built-in ones
    name = "my-print"
    pattern = '^\\[MYVKR\\] (?P<fn>\\w+): ret=(?P<ret>-?\\d+)'   # RE2 syntax: linear time
    level = "info"              # debug | info | warn | error

    [targets.test_fence]        # programs to rerun with flags toggled (the probe is built in)
    argv = ["ssh", "guest", "env", "VN_PERF={VN_PERF}", "/tmp/test_fence"]
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venustui import paths
from venustui.errors import UserError

LEVELS = ("debug", "info", "warn", "error")
RULE_NAME = re.compile(r"^[A-Za-z][\w-]*$")
RULE_KEYS = ("name", "pattern", "level", "side", "kind", "markers")
SIDES = ("guest", "host", "vmm", "kernel", "app", "loader")


@dataclass(frozen=True)
class UserRule:
    name: str
    pattern: Any  # a compiled RE2 pattern: search() and groupdict() as with re
    level: str = "info"
    side: str = "app"  # guest, host, vmm, kernel, app or loader: which runs its lines belong to
    kind: str = ""  # the message kind its records carry (default: the rule's name)
    markers: tuple[str, ...] = ()  # literals every matching line holds (default: read from the pattern)


def compile_rule(pattern: str, where: str):
    """A user rule's pattern, compiled by RE2: matching takes time linear in the line whatever the
    pattern (Python's re can take exponential time on a pattern like (a+)+$, stalling the session)."""
    import re2  # only when the config has rules

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own message to stderr; ours is the one line below
    try:
        return re2.compile(pattern, options=options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise UserError(f"{where}: invalid regex: {reason} (fix the pattern: RE2 syntax, like Python's re without "
                        "backreferences or lookaround; named groups like (?P<fn>\\w+) become fields)") from None


@dataclass(frozen=True)
class TargetConfig:
    name: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    sources: tuple[str, ...] = ()
    mesa_version: str | None = None
    rules: tuple[UserRule, ...] = ()
    targets: tuple[TargetConfig, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)


def default_path() -> Path:
    return paths.config_dir() / "config.toml"


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the named file, or the default one if it exists, else an empty config."""
    explicit = path is not None
    cfg_path = Path(path) if explicit else default_path()
    try:
        exists = cfg_path.exists()
    except PermissionError:
        raise UserError(f"config {cfg_path}: permission denied on its folder "
                        "(fix the permissions, or pass --config FILE)") from None
    if not exists:
        if explicit:
            raise UserError(f"config {cfg_path}: no such file (check the --config path)")
        return Config()
    if cfg_path.is_dir():
        raise UserError(f"config {cfg_path}: is a directory (point --config at a .toml file)")
    try:
        data = tomllib.loads(cfg_path.read_bytes().decode("utf-8"))
    except PermissionError:
        raise UserError(f"config {cfg_path}: permission denied (make it readable: chmod u+r)") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"config {cfg_path}: not UTF-8 at byte {exc.start} (save the file as UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"config {cfg_path}: not valid TOML: {exc} (fix the syntax there)") from None
    return parse(data, cfg_path)


def parse(data: dict[str, Any], where: Path | None = None) -> Config:
    label = f"config {where}" if where else "config"
    known = {"sources", "parse", "rules", "targets"}
    for key in data:
        if key not in known:
            raise UserError(f"{label}: unknown key '{key}' (known: {', '.join(sorted(known))})")

    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise UserError(f"{label}: sources must be a list of strings like [\"host=/var/log/host.log\"]")

    parse_section = data.get("parse", {})
    if not isinstance(parse_section, dict):
        raise UserError(f"{label}: [parse] must be a table")
    for key in parse_section:
        if key != "mesa_version":
            raise UserError(f"{label}: unknown key 'parse.{key}' (known: parse.mesa_version)")
    mesa_version = parse_section.get("mesa_version")
    if mesa_version is not None and (
        not isinstance(mesa_version, str) or not re.fullmatch(r"\d+\.\d+(\.\d+)?", mesa_version)
    ):
        raise UserError(f"{label}: parse.mesa_version must be a string like \"25.0\", not {mesa_version!r}")

    rules_data = data.get("rules", [])
    if not isinstance(rules_data, list):
        raise UserError(f"{label}: rules must be an array of tables ([[rules]])")
    rules = []
    seen = set()
    for i, rule in enumerate(rules_data):
        where_rule = f"{label}: rules[{i}]"
        if not isinstance(rule, dict):
            raise UserError(f"{where_rule}: must be a table with name and pattern")
        for key in rule:
            if key not in RULE_KEYS:
                raise UserError(f"{where_rule}: unknown key '{key}' (known: {', '.join(sorted(RULE_KEYS))})")
        name = rule.get("name")
        if not isinstance(name, str) or not RULE_NAME.match(name):
            raise UserError(f"{where_rule}: name must be a word like \"my-print\", not {name!r}")
        if name in seen:
            raise UserError(f"{where_rule}: name '{name}' is used twice (give each rule its own name)")
        seen.add(name)
        pattern = rule.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise UserError(f"{where_rule} ({name}): pattern must be a non-empty regex string")
        compiled = compile_rule(pattern, f"{where_rule} ({name})")
        level = rule.get("level", "info")
        if level not in LEVELS:
            raise UserError(f"{where_rule} ({name}): level must be one of {', '.join(LEVELS)}, not {level!r}")
        side = rule.get("side", "app")
        if side not in SIDES:
            raise UserError(f"{where_rule} ({name}): side must be one of {', '.join(SIDES)}, not {side!r}")
        kind = rule.get("kind", name)
        if not isinstance(kind, str) or not RULE_NAME.match(kind):
            raise UserError(f"{where_rule} ({name}): kind must be a word like \"slot_written\", not {kind!r}")
        markers = rule.get("markers", [])
        if not isinstance(markers, list) or not all(isinstance(m, str) and len(m.encode()) >= 2 for m in markers):
            raise UserError(f"{where_rule} ({name}): markers must be a list of strings of two bytes or more that "
                            "every matching line holds, like [\"[MYDBG]\"]")
        rules.append(UserRule(name, compiled, level, side, kind, tuple(markers)))

    targets_data = data.get("targets", {})
    if not isinstance(targets_data, dict):
        raise UserError(f"{label}: targets must be tables like [targets.test_fence] with an argv list")
    targets = []
    for name, table in targets_data.items():
        where_target = f"{label}: targets.{name}"
        if name == "probe":
            raise UserError(f"{where_target}: 'probe' is built in (give your target another name)")
        if not isinstance(table, dict):
            raise UserError(f"{where_target}: must be a table with argv = [\"program\", \"arg\", …]")
        for key in table:
            if key != "argv":
                raise UserError(f"{where_target}: unknown key '{key}' (known: argv)")
        argv = table.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise UserError(f"{where_target}: argv must be a non-empty list of strings "
                            "(no shell runs; {VN_PERF} and {VN_DEBUG} are filled in)")
        unknown = sorted(set(re.findall(r"\{(\w+)\}", " ".join(argv))) - {"VN_PERF", "VN_DEBUG"})
        if unknown:
            raise UserError(f"{where_target}: unknown placeholder {{{unknown[0]}}} (only {{VN_PERF}} and "
                            "{VN_DEBUG} are filled in)")
        targets.append(TargetConfig(name, tuple(argv)))

    return Config(
        path=where,
        sources=tuple(sources),
        mesa_version=mesa_version,
        rules=tuple(rules),
        targets=tuple(targets),
        raw=data,
    )
