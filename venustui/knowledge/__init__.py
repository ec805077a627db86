"""The knowledge base: failure classes of the field, recognised from evidence, declared as data.

Each ``*.toml`` file here (``codes.toml`` aside: the decoders' tables) declares signatures: an id, a
title, the evidence they need (record kinds and field conditions, in what order, within how many
lines and before which record, what must be absent), the mechanism and cause in plain words, the
versions affected, the fix, the upstream references, what would confirm it and rule it out, and the
next command. Symptoms declare only their evidence and the signatures that explain them: when none
of those fired, the symptom is reported with its known causes as candidates and what to collect next.
Evidence is read from the model's records of each kind (``Model.kinds``). Rules that reason over the
model stay code, in diagnose.py; both give findings of the same shape.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from venustui.errors import UserError
from venustui.numbers import parse_integer

CONFIDENCES = ("confirmed", "likely", "possible")
SEVERITIES = ("critical", "error", "warning", "info")
_MATCH_KEYS = {"name", "kinds", "fields", "text_matches", "field_matches", "multiple_of", "not_multiple_of", "after",
               "within", "until", "required", "decode", "count_at_least"}
_SIGNATURE_KEYS = {"id", "title", "severity", "confidence", "claim", "mechanism", "cause", "versions", "fix",
                   "references", "confirm", "rule_out", "next", "evidence", "absent", "confirmed_by", "version"}
_SYMPTOM_KEYS = {"id", "title", "severity", "claim", "evidence", "candidates", "collect", "absent"}


class KnowledgeError(ValueError):
    """A data file of the knowledge base that does not say what the engine can read (a bug in the package)."""


@dataclass(frozen=True)
class Match:
    """Which records count as one piece of evidence."""

    name: str
    kinds: tuple[tuple[str, str], ...]  # (format, message kind); "*" for any kind of that format
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()  # field equals one of these
    field_matches: tuple[tuple[str, re.Pattern[str]], ...] = ()  # field's text holds this regex
    text_matches: re.Pattern[str] | None = None  # the line's text holds this regex
    multiple_of: tuple[tuple[str, int], ...] = ()  # field is a number, a multiple of this
    not_multiple_of: tuple[tuple[str, int], ...] = ()  # field is a number, not a multiple of this
    after: str | None = None  # comes after the record matched by that name
    within: int | None = None  # ... at most this many lines after it
    until: "Match | None" = None  # ... and before the first record of this kind after it (the end of a trace)
    required: bool = True
    count_at_least: int = 1  # how many such records there must be
    decode: tuple[tuple[str, str], ...] = ()  # field -> decoder kind, for showing values decoded

    def accepts(self, record) -> bool:
        values = record.fields
        for key, allowed in self.fields:
            if str(values.get(key)) not in allowed:
                return False
        for key, pattern in self.field_matches:
            if key not in values or not pattern.search(str(values[key])):
                return False
        if self.text_matches is not None and not self.text_matches.search(record.text):
            return False
        for key, modulus in self.multiple_of:
            number = _number(values.get(key))
            if number is None or number % modulus:
                return False
        for key, modulus in self.not_multiple_of:
            number = _number(values.get(key))
            if number is None or not number % modulus:
                return False
        return True


@dataclass(frozen=True)
class Signature:
    id: str
    title: str
    severity: str
    confidence: str  # when its required evidence is there; "confirmed" when a confirmed_by matches too
    claim: str  # {name.field} and {name.field:decoder} are filled from the matched records
    mechanism: str
    cause: str
    versions: str
    fix: str
    references: tuple[str, ...]
    confirm: str
    rule_out: str
    next: str
    evidence: tuple[Match, ...]
    absent: tuple[Match, ...] = ()
    confirmed_by: tuple[Match, ...] = ()
    # A component whose version decides (virglrenderer below 1.2): (component, below, how to tell)
    version: tuple[str, str, str] | None = None
    symptom: bool = False
    candidates: tuple[tuple[str, str], ...] = ()  # a symptom's known causes: (signature or rule id, what tells)
    collect: str = ""
    source: str = ""  # the data file it came from


def _number(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return parse_integer(str(value))
    except (ValueError, UserError):  # a field that is not a number (log text can hold anything)
        return None


def _tuple(value) -> tuple:
    return tuple(value) if isinstance(value, list) else (value,)


def _match(table: dict, where: str, index: int) -> Match:
    unknown = set(table) - _MATCH_KEYS
    if unknown:
        raise KnowledgeError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    kinds = []
    for kind in _tuple(table.get("kinds", ())):
        fmt, _, what = kind.partition("/")
        if not fmt or not what:
            raise KnowledgeError(f"{where}: kind {kind!r} is not format/kind")
        kinds.append((fmt, what))
    if not kinds:
        raise KnowledgeError(f"{where}: evidence needs kinds")
    text = table.get("text_matches")
    return Match(
        name=table.get("name", f"e{index}"), kinds=tuple(kinds),
        fields=tuple((k, tuple(str(v) for v in _tuple(v))) for k, v in table.get("fields", {}).items()),
        field_matches=tuple((k, re.compile(v)) for k, v in table.get("field_matches", {}).items()),
        text_matches=re.compile(text) if text else None,
        multiple_of=tuple(table.get("multiple_of", {}).items()),
        not_multiple_of=tuple(table.get("not_multiple_of", {}).items()),
        after=table.get("after"), within=table.get("within"), required=table.get("required", True),
        until=_match(table["until"], f"{where} until", index) if "until" in table else None,
        count_at_least=table.get("count_at_least", 1), decode=tuple(table.get("decode", {}).items()))


def _signature(table: dict, where: str, symptom: bool) -> Signature:
    keys = _SYMPTOM_KEYS if symptom else _SIGNATURE_KEYS
    unknown = set(table) - keys
    if unknown:
        raise KnowledgeError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    where = f"{where} {table.get('id', '?')}"
    for key in ("id", "title", "claim") + (("collect",) if symptom else ("cause", "fix", "next")):
        if not table.get(key):
            raise KnowledgeError(f"{where}: {key} is required")
    severity = table.get("severity", "error")
    confidence = "possible" if symptom else table.get("confidence", "likely")
    if severity not in SEVERITIES or confidence not in CONFIDENCES:
        raise KnowledgeError(f"{where}: severity {severity!r} or confidence {confidence!r} unknown")
    version = table.get("version")
    return Signature(
        id=table["id"], title=table["title"], severity=severity, confidence=confidence, claim=table["claim"],
        mechanism=table.get("mechanism", ""), cause=table.get("cause", ""), versions=table.get("versions", ""),
        fix=table.get("fix", ""), references=tuple(table.get("references", ())), confirm=table.get("confirm", ""),
        rule_out=table.get("rule_out", ""), next=table.get("next", ""),
        evidence=tuple(_match(m, f"{where} evidence", k) for k, m in enumerate(table.get("evidence", []))),
        absent=tuple(_match(m, f"{where} absent", k) for k, m in enumerate(table.get("absent", []))),
        confirmed_by=tuple(_match(m, f"{where} confirmed_by", k) for k, m in enumerate(table.get("confirmed_by", []))),
        version=(version["component"], version["below"], version["tell"]) if version else None,
        symptom=symptom, candidates=tuple((c["id"], c["tells"]) for c in table.get("candidates", [])),
        collect=table.get("collect", ""), source=where.split(":")[0])


@lru_cache(maxsize=1)
def load() -> tuple[Signature, ...]:
    """Every signature and symptom of the package's data files (read once)."""
    out = []
    folder = resources.files("venustui") / "knowledge"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml") or item.name == "codes.toml":
            continue
        try:
            data = tomllib.loads(item.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise KnowledgeError(f"knowledge/{item.name}: {exc}") from None
        unknown = set(data) - {"signature", "symptom"}
        if unknown:
            raise KnowledgeError(f"knowledge/{item.name}: unknown table(s) {', '.join(sorted(unknown))}")
        out += [_signature(t, f"knowledge/{item.name}:", False) for t in data.get("signature", [])]
        out += [_signature(t, f"knowledge/{item.name}:", True) for t in data.get("symptom", [])]
    ids = [s.id for s in out]
    if len(ids) != len(set(ids)):
        raise KnowledgeError(f"knowledge: an id is used twice: {sorted(i for i in ids if ids.count(i) > 1)}")
    return tuple(out)


@dataclass
class Hit:
    """A signature whose evidence is there: the records matched, by name, and how sure."""

    signature: Signature
    matched: dict = field(default_factory=dict)
    confidence: str = "likely"
    version_note: str = ""


def _records(model, match: Match) -> list:
    out = []
    for fmt, what in match.kinds:
        if what == "*":
            for (f, _w), log in model.kinds.items():
                if f == fmt:
                    out += log.records()
        else:
            log = model.kinds.get((fmt, what))
            if log is not None:
                out += log.records()
    return sorted((r for r in out if match.accepts(r)), key=lambda r: r.line.seq)


def _find(model, match: Match, matched: dict) -> list:
    records = _records(model, match)
    anchor = matched.get(match.after) if match.after else None
    if match.after and anchor is None:
        return []
    if anchor is not None:
        end = None
        if match.until is not None:
            end = next((r.line.seq for r in _records(model, match.until) if r.line.seq > anchor.line.seq), None)
        records = [r for r in records if r.line.seq > anchor.line.seq
                   and (match.within is None or r.line.seq - anchor.line.seq <= match.within)
                   and (end is None or r.line.seq < end)]
    return records if len(records) >= match.count_at_least else []


def evaluate(signature: Signature, model, versions: dict[str, str] | None = None) -> Hit | None:
    """The signature's hit on this model, or None when its evidence is not all there (or is ruled out)."""
    matched: dict = {}
    candidates: dict[str, list] = {}  # each match's records, in order
    for match in signature.evidence:
        found = _find(model, match, matched)
        if not found and match.required and match.after in candidates:  # a later anchor may have it after it
            for anchor in candidates[match.after][1:]:
                found = _find(model, match, {**matched, match.after: anchor})
                if found:
                    matched[match.after] = anchor
                    break
        if found:
            candidates[match.name] = found
            matched[match.name] = found[0]
            matched[match.name + "#count"] = len(found)
        elif match.required:
            return None
    if not any(m.required for m in signature.evidence) and not any(m.name in matched for m in signature.evidence):
        return None
    for match in signature.absent:
        if _find(model, match, matched):
            return None
    hit = Hit(signature, matched, signature.confidence)
    if any(_find(model, match, matched) for match in signature.confirmed_by):
        hit.confidence = "confirmed"
    if signature.version is not None:
        component, below, tell = signature.version
        known = (versions or {}).get(component)
        if known is not None:
            if _version(known) >= _version(below):
                return None  # ruled out: the version that has the bug is not the one running
            hit.confidence = "confirmed"
            hit.version_note = f"{component} {known} is older than {below}"
        else:
            hit.version_note = f"{component}'s version is not in these logs: {tell}"
    return hit


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


_PLACEHOLDER = re.compile(r"\{(\w+)(?:\.(\w+)|(#count))(?::([\w-]+))?\}")


def render(template: str, matched: dict, decode=None) -> str:
    """A claim with {name.field}, {name.field:decoder} (the value and its meaning) and {name#count} (how many
    such records) filled from the matched records; the text field is the line itself."""
    def fill(m: re.Match) -> str:
        name, key, count, decoder = m.groups()
        if count:
            return str(matched.get(name + "#count", "?"))
        record = matched.get(name)
        if record is None:
            return "?"
        value = record.text.strip() if key == "text" else record.fields.get(key, "?")  # (a pasted line's indent)
        if decoder and decode is not None:
            return decode(str(value), decoder)
        return str(value)
    return _PLACEHOLDER.sub(fill, template)
