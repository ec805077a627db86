"""Handle decoding: the seed's values ranked right, and any 64-bit value decoded without error."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venustui import handles as H
from venustui.errors import UserError


def test_validation_wrapped_id_ranks_first():
    layouts = H.decode(0x50000000005)
    assert layouts[0].key == "validation-id"
    assert layouts[0].title == "validation-layer unique id 5"
    assert "VKR_DEBUG=validate" in layouts[0].explanation
    assert layouts[0].explanation.count(". ") == 0  # one sentence


def test_moltenvk_pointer_ranks_first():
    for value in (0xb5f080000, 0xb5f0800a0, 0xa810d6818, 0x60000304c090):
        assert H.decode(value)[0].key == "pointer", hex(value)


def test_linux_heap_pointers():
    best = H.decode(0x5654bbaa6a80)[0]
    assert best.key == "pointer" and "Linux x86-64 heap" in best.title


def test_null_and_small_ids():
    assert H.decode(0)[0].key == "null"
    assert H.decode(5)[0].key == "object-id"


def test_seed_arithmetic_slip_is_named():
    text = " ".join(l.explanation for l in H.decode(0x500000005))
    assert "0x50000000005" in text


def test_parse_value():
    assert H.parse_value("0x50000000005") == 0x50000000005
    assert H.parse_value("12") == 12
    with pytest.raises(UserError, match="not a handle value"):
        H.parse_value("fence")
    with pytest.raises(UserError, match="out of range for a 64-bit"):
        H.parse_value("0x1" + "0" * 16)


@settings(deadline=None, max_examples=500)
@given(st.integers(min_value=0, max_value=(1 << 64) - 1))
def test_every_value_decodes_with_covering_fields(value):
    layouts = H.decode(value)
    assert layouts
    assert [l.score for l in layouts] == sorted((l.score for l in layouts), reverse=True)
    for layout in layouts:
        covered = 0
        for f in layout.fields:
            assert 63 >= f.hi >= f.lo >= 0
            covered += f.hi - f.lo + 1
        assert covered == 64, layout.key
        reassembled = 0
        for f in layout.fields:
            reassembled |= f.value(value) << f.lo
        assert reassembled == value
        rows = H.bit_diagram(value, layout.fields)
        assert len(rows) == 3
        assert rows[1].replace(" ", "").replace("│", "") == format(value, "064b")
