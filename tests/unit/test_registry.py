"""The registry of line families: each declared once, the fast path, the parser and the model derived
from it, and user rules joining it with a side, a kind and markers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from venustui.config import UserRule, compile_rule
from venustui.events import Chunk
from venustui.index import CODES, DEFAULT, FORMAT_NAMES, TRACKED, Classifier, line_starts
from venustui.ingest import Ingest
from venustui.model import Model
from venustui.model.fold import GUEST_FORMATS, HOST_FORMATS
from venustui.parse import Parser, families

from ..conftest import ROOT


def test_each_family_is_declared_once_and_the_tables_come_from_it():
    names = [family.name for family in families.FAMILIES]
    assert len(names) == len(set(names))
    assert FORMAT_NAMES == ("text", *names)
    assert GUEST_FORMATS == {f.name for f in families.FAMILIES if f.side == "guest"} >= {"mesa", "step"}
    assert HOST_FORMATS == {f.name for f in families.FAMILIES if f.side == "host"} >= {"vkr", "vkr-server"}
    for family in families.FAMILIES:
        assert family.side in ("guest", "host", "vmm", "kernel", "app", "loader"), family.name
        assert all(len(literal) >= 2 for literal in family.anywhere + family.tracked + family.tracked_own)
    # every literal of every family is one the fast path searches for, and nothing else is
    declared = {lit for f in families.FAMILIES for lit in f.anywhere + f.tracked}
    declared |= {m for f in families.FAMILIES for marker, words in f.tracked_if for m in (marker, *words)}
    assert set(DEFAULT.text_search.literals) == declared
    assert {lit for _, search in DEFAULT.own for lit in search.literals} == {
        lit for f in families.FAMILIES for lit in f.tracked_own}
    assert set(families.GLUED_MARKERS) == {g for f in families.FAMILIES for g in f.glued}


def test_the_models_vkr_calls_are_those_the_fast_path_tracks():
    """Model._vkr branches on [VKR] function names; each must be one the registry tracks (by its first
    8 letters, as the fast path compares), or the fast path would never send its lines."""
    tree = ast.parse((ROOT / "venustui/model/fold.py").read_text())
    method = next(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "_vkr")
    compared = {node.value for node in ast.walk(method) if isinstance(node, ast.Constant) and isinstance(node.value, str)
                and re.fullmatch(r"[A-Z][A-Za-z]+\d?", node.value)}
    assert compared, "no function names found in Model._vkr"
    tracked = {call[:8] for call in families.VKR.calls}
    assert {name for name in compared if name[:8] not in tracked} == set()


@pytest.mark.parametrize(("pattern", "literal"), [
    (r"^\[VKR\] feedback slot (?P<slot>0x[0-9a-f]+) written", "[VKR] feedback slot 0x"),
    (r"x*abc\d+", "abc"),
    (r"a?bcd(?P<n>efgh)", "bcdefgh"),
    (r"(foo|bar)baz", "baz"),
    (r"(foo|bar)", None),
    (r"(?i)mydbg", None),
    (r"ab{2}c", None),
])
def test_a_user_rules_marker_is_read_from_its_pattern(pattern, literal):
    assert families.required_literal(pattern) == literal


def test_user_rules_join_the_registry_fast_path_and_model():
    rule = UserRule("slot", compile_rule(r"\[MYDBG\] slot (?P<slot>0x[0-9a-f]+) written (?P<value>-?\d+)", "t"),
                    "error", side="guest", kind="slot_written")
    parser = Parser([rule])
    (family,) = parser.user_families
    assert (family.name, family.side, family.tracked) == ("user:slot", "guest", (b"[MYDBG] slot 0x",))
    model = Model(parser.user_families)
    ingest = Ingest(parser, model)
    assert not ingest.track_text  # the marker is enough: plain lines without it stay on the fast path
    # synthetic lines (labelled): a guest run's first step, noise, then the user's print behind a stamp
    data = (b"1. Instance: 0 (VK_SUCCESS)\nnoise without the marker\n"
            b"2025-02-18 07:08:52,277: [MYDBG] slot 0x5000 written -1\n")
    kinds = ingest.classifier.classify(data, line_starts(data))
    assert [bool(k & TRACKED) for k in kinds.tolist()] == [True, False, True]
    ingest.fold(Chunk("guest", "file", 0, 0, data, False, 0.0, 0.0, seq=1))
    (note,) = [n for n in model.notable if n.fmt == "user:slot"]
    assert (note.what, note.level, note.fields["slot"], note.fields["value"]) == ("slot_written", "error", "0x5000", "-1")
    assert note.run == model.runs[-1].id  # side guest: the line belongs to the guest's run


def test_a_user_rule_without_a_marker_looks_at_every_plain_line():
    rule = UserRule("any", compile_rule(r"(?i)mydbg (?P<n>\d+)", "t"), "warn")
    parser = Parser([rule])
    assert parser.user_families[0].tracked == ()
    assert Ingest(parser, Model()).track_text


def test_a_classifier_with_extra_literals_tracks_any_line_holding_one():
    data = b"[VKR] vkCmdDraw: x\nplain text\nMESA-VIRTIO: debug: hello MARK\n"
    kinds = Classifier(extra=(b"MARK",)).classify(data, line_starts(data)).tolist()
    assert kinds == [CODES["vkr"], 0, CODES["mesa"] | TRACKED]
    assert Classifier(extra=(b"draw",)).classify(data, line_starts(data)).tolist()[0] == CODES["vkr"]
    assert Classifier(extra=(b"CmdDraw",)).classify(data, line_starts(data)).tolist()[0] == CODES["vkr"] | TRACKED


def test_docs_list_the_rule_keys():
    readme = (ROOT / "README.md").read_text()
    for key in ("side", "kind", "markers"):
        assert re.search(rf"^{key} = ", readme, re.M), key
    assert Path(ROOT / "docs/config-real-setup.toml").exists()
