"""A session's closing state, kept in its journal so a replay to the end need not derive it again.

A journal keeps raw input and re-derives everything from it; for a long session that takes
a while (every line parsed and folded again). When a recording ends with every recorded
event folded, the recorder also stores the model the live session reached: the closing
state. A replay that wants only the end (``replay --summary``, ``report``) takes it instead of
folding when it fits: signed by this user's key, made by the same code with the same rules
(the ``fingerprint``), for the journal's last event; anything else, or ``--rederive``, folds.

The state is a pickle, and a pickle can be made to run code, so only states this user's own
venustui wrote are loaded: each is signed with an HMAC under a random key kept in the user's
state folder (mode 0600), and a journal from anyone else (a bug report's attachment) is
folded from its lines. As a second wall, the unpickler builds only the model's own classes
and plain containers.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import pickle
import secrets
import sys
from collections import Counter, deque
from functools import cache
from importlib import metadata
from pathlib import Path

from venustui import paths
from venustui.config import Config
from venustui.model import Model

PICKLE_PROTOCOL = 5
KEY_FILE = "checkpoint.key"
# Where the model's classes live: the only modules a stored state may name classes from.
MODEL_MODULES = frozenset({"venustui.events", "venustui.model.entities", "venustui.model.fold",
                           "venustui.model.handle_table", "venustui.model.vulkan_devices"})
PLAIN_CLASSES = {("collections", "Counter"): Counter, ("collections", "deque"): deque,
                 ("builtins", "set"): set, ("builtins", "frozenset"): frozenset}
# Libraries whose behaviour the fold depends on: the index's arrays, user rules' regexes.
LIBRARIES = ("numpy", "google-re2")


class CheckpointError(ValueError):
    """A stored state that cannot be read (damaged, or naming classes a model never holds)."""


@cache
def _code_digest() -> str:
    """A digest of venustui's own code and knowledge, the Python and the libraries that turn lines into a model."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(sys.version.encode())
    for library in LIBRARIES:
        try:
            digest.update(f"{library} {metadata.version(library)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} -\0".encode())
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


def _key(create: bool) -> bytes | None:
    """This user's signing key (made on first use), or None where there is none to be had or it is not private."""
    path = paths.state_dir() / KEY_FILE
    try:
        if create and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another venustui made it just now
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32))
        st = path.stat()
        if st.st_uid != os.geteuid() or st.st_mode & 0o077:
            return None  # others could read or replace it: it proves nothing
        key = path.read_bytes().strip()
    except OSError:
        return None
    return key if len(key) == 64 else None


def _mac(key: bytes, signed: bytes | memoryview) -> bytes:
    return hmac.new(key, signed, hashlib.sha256).hexdigest().encode()


def encode(model: Model, config: Config, last_seq: int) -> bytes | None:
    """The model as a closing state for the events up to last_seq (None without a key to sign it): the
    signature, a JSON line of facts, the pickle."""
    key = _key(create=True)
    if key is None:
        return None
    signed = json.dumps({"fingerprint": fingerprint(config), "last_seq": last_seq}).encode() + b"\n" + \
        pickle.dumps(model, protocol=PICKLE_PROTOCOL)
    return _mac(key, signed) + b"\n" + signed


def _parts(payload: bytes) -> tuple[bytes, dict, memoryview]:
    """(signature, facts, pickle) of a stored state; CheckpointError where its two first lines are damaged."""
    first = bytes(payload[:8192])
    mac, newline, rest = first.partition(b"\n")
    facts_line, newline2, _ = rest.partition(b"\n")
    try:
        facts = json.loads(facts_line) if newline and newline2 else None
    except ValueError:
        facts = None
    if len(mac) != 64 or not isinstance(facts, dict) or not isinstance(facts.get("fingerprint"), str) \
            or not isinstance(facts.get("last_seq"), int):
        raise CheckpointError("damaged")
    return mac, facts, memoryview(payload)[len(mac) + 1:]


def unfit(payload: bytes, config: Config, last_seq: int) -> str:
    """Why a stored state cannot stand for a journal whose last event is last_seq, replayed with config; ""
    when it can (its pickle is then read by decode)."""
    try:
        mac, facts, signed = _parts(payload)
    except CheckpointError:
        return "it is damaged"
    key = _key(create=False)
    if key is None or not hmac.compare_digest(mac, _mac(key, signed)):
        return "it was not written by this user's venustui on this machine (or was changed since)"
    if facts["fingerprint"] != fingerprint(config):
        return "another venustui, or other rules or parse settings, made it"
    if facts["last_seq"] != last_seq:
        return "it does not end where the journal does"
    return ""


def decode(payload: bytes) -> Model:
    """The stored model (after unfit() found nothing); CheckpointError if it cannot be read safely."""
    _, _, signed = _parts(payload)
    body = signed[bytes(signed[:8192]).index(b"\n") + 1:]
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
