"""A session's closing state, kept in its journal so a replay to the end need not derive it again.

A journal keeps raw input and re-derives everything from it; for a long session that takes
a while (every line parsed and folded again). When a recording ends with every recorded
event folded, the recorder also stores the model the live session reached: the closing
state. A replay that wants only the end (``replay --summary``, ``report``) takes it instead of
folding, when the same code with the same rules made it (the ``fingerprint``) and every
frame before it reads back intact; anything else, or ``--rederive``, folds from the start.

Journals travel (attached to bug reports), so loading one must not run code: the state is a
pickle read by an unpickler that builds only the model's own classes and plain containers,
and anything else is refused as a damaged state.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import sys
from collections import Counter, deque
from functools import cache
from pathlib import Path

from venustui.config import Config
from venustui.model import Model

PICKLE_PROTOCOL = 5
# Where the model's classes live: the only modules a stored state may name classes from.
MODEL_MODULES = frozenset({"venustui.events", "venustui.model.entities", "venustui.model.fold",
                           "venustui.model.handle_table", "venustui.model.vulkan_devices"})
PLAIN_CLASSES = {("collections", "Counter"): Counter, ("collections", "deque"): deque,
                 ("builtins", "set"): set, ("builtins", "frozenset"): frozenset}


class CheckpointError(ValueError):
    """A stored state that cannot be used (damaged, made by other code, or naming other classes)."""


@cache
def _code_digest() -> str:
    """A digest of venustui's own code and knowledge: what turns lines into a model."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(p for pattern in ("*.py", "*.toml") for p in root.rglob(pattern)):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(config: Config) -> str:
    """What a closing state depends on besides the recorded input: the code, the user's rules, the Mesa version."""
    rules = [[rule.name, getattr(rule.pattern, "pattern", str(rule.pattern)), rule.level, rule.side, rule.kind,
              list(rule.markers)] for rule in config.rules]
    settings = json.dumps([rules, config.mesa_version])
    return hashlib.sha256((_code_digest() + settings).encode()).hexdigest()


def encode(model: Model, config: Config, last_seq: int) -> bytes:
    """The model as a closing state for the events up to last_seq: a JSON line of facts, then the pickle."""
    head = json.dumps({"fingerprint": fingerprint(config), "last_seq": last_seq}).encode()
    return head + b"\n" + pickle.dumps(model, protocol=PICKLE_PROTOCOL)


def facts(payload: bytes) -> dict:
    """The state's facts line: fingerprint and last_seq."""
    head, newline, _ = bytes(payload[:4096]).partition(b"\n")
    try:
        found = json.loads(head) if newline else None
    except ValueError:
        found = None
    if not isinstance(found, dict) or not isinstance(found.get("fingerprint"), str) \
            or not isinstance(found.get("last_seq"), int):
        raise CheckpointError("its facts line is damaged")
    return found


def decode(payload: bytes) -> Model:
    """The stored model (after facts() said it fits); CheckpointError if it cannot be read safely."""
    body = memoryview(payload)[bytes(payload[:4096]).index(b"\n") + 1:]
    try:
        model = _ModelUnpickler(io.BytesIO(body)).load()
    except CheckpointError:
        raise
    except Exception as exc:  # a damaged pickle fails in many ways; each means the same: derive it again
        raise CheckpointError(f"unreadable ({type(exc).__name__})") from None
    if type(model) is not Model:
        raise CheckpointError("it holds no model")
    return model


class _ModelUnpickler(pickle.Unpickler):
    """Builds the model's own classes and plain containers, nothing else (no function, no other class)."""

    def find_class(self, module: str, name: str):
        plain = PLAIN_CLASSES.get((module, name))
        if plain is not None:
            return plain
        if module in MODEL_MODULES:
            found = getattr(sys.modules.get(module), name, None)
            if isinstance(found, type) and found.__module__ == module:
                return found
        raise CheckpointError(f"it names {module}.{name}, which a model never holds")
