"""Where venustui keeps its files: the platform's own folders (platformdirs: ~/.config, ~/.local/state and
~/.cache on Linux; ~/Library/Application Support and ~/Library/Caches on macOS), with the XDG variables
honoured wherever they are set (a Mac user who sets XDG_CONFIG_HOME gets it)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "venustui"


def _xdg(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) / APP if value and os.path.isabs(value) else None


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME") or Path(platformdirs.user_config_dir(APP, appauthor=False))


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME") or Path(platformdirs.user_state_dir(APP, appauthor=False))


def cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME") or Path(platformdirs.user_cache_dir(APP, appauthor=False))


def sessions_dir() -> Path:
    """Where the TUI records its sessions."""
    return state_dir() / "sessions"


def recorded_sessions() -> list[Path]:
    """The recorded sessions, newest first (their names are their start times)."""
    try:
        return sorted(sessions_dir().glob("*.vtj"), key=lambda p: p.name, reverse=True)
    except OSError:
        return []
