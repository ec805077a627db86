"""The fast path agrees with the slow one: offsets, handle values, kinds, and the model they build."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venustui.events import Chunk
from venustui.index import DEFAULT, FORMAT_NAMES, TEXT, TRACKED, classify, handle_values, index_file, line_starts
from venustui.ingest import Ingest, _untracked_handles, group_hits
from venustui.literals import TUNE_AFTER, Literals
from venustui.model import Model
from venustui.parse import Parser
from venustui.parse import rules as R

from ..conftest import LAB, ROOT, SEED

sys.path.insert(0, str(ROOT / "bench"))
import genlog  # noqa: E402

FIXTURES = sorted(LAB.glob("*.log")) + sorted(SEED.glob("*.log"))


def sample(mix: str, count: int = 4000) -> bytes:
    return "".join(line + "\n" for line in genlog.lines(count, seed=3, mix=mix)).encode()


_FEW_BYTES = st.binary(min_size=1, max_size=1).map(lambda b: b"ab:[0x \n\0"[b[0] % 9:b[0] % 9 + 1])


@settings(deadline=None, max_examples=300)
@given(literals=st.lists(st.lists(_FEW_BYTES, min_size=2, max_size=19).map(b"".join), min_size=1, max_size=14),
       pieces=st.lists(st.tuples(st.integers(0, 13), st.integers(0, 19), st.integers(0, 7), _FEW_BYTES | st.binary(max_size=3)),
                       max_size=200),
       tune=st.booleans())
def test_literals_are_found_where_a_plain_search_finds_them(literals, pieces, tune):
    """Every place of every literal, whichever way is taken (one by one, or grouped pairs and 8-byte words,
    anchored by guess or by counts), as bytes.find finds them. The text is the literals themselves, cut
    short or with one byte changed, between a few bytes: many overlaps and near misses."""
    text = b""
    for which, cut, change, between in pieces:
        literal = bytearray(literals[which % len(literals)])
        if change == 1:
            literal[cut % len(literal)] ^= 1
        elif change == 2:
            literal = literal[:cut % len(literal)]
        text += bytes(literal) + between
    search = Literals(literals)
    if tune:
        search._tune(text + bytes(TUNE_AFTER))
    pos, which = search.find(text)
    found = sorted(zip(which.tolist(), pos.tolist()))
    expected = []
    for k, literal in enumerate(search.literals):
        at = text.find(literal)
        while at >= 0:
            expected.append((k, at))
            at = text.find(literal, at + 1)
    assert found == sorted(expected)
    assert np.array_equal(which, np.sort(which))  # ordered by literal, as find says


@settings(deadline=None, max_examples=300)
@given(st.binary(max_size=3000))
def test_line_starts_match_a_plain_split(data):
    starts = line_starts(data).tolist()
    expected, pos = [], 0
    for part in data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"):
        expected.append(pos)
        pos += len(part) + 1
    assert starts == (expected if data else [])


@settings(deadline=None, max_examples=400)
@given(st.lists(st.sampled_from([b"0x", b"0X", b"1234", b"abcd", b"ef", b"_", b"z", b" ", b"=", b"(", b"\n",
                                 b"\xff", b"\xc3\xa9", b"deadbeef00"]), max_size=40).map(b"".join))
def test_handle_values_match_the_parser(data):
    positions, values = handle_values(data)
    text_hits = [int(m.group(), 16) for m in R.HANDLE.finditer(data.decode("latin-1"))]
    assert values.tolist() == text_hits



@settings(deadline=None, max_examples=300)
@given(st.lists(st.tuples(st.sampled_from([b"[VKR] vkCmdDraw:", b"qemu:", b"[mvk-trace]", b"MESA-VIRTIO: debug:"]),
                          st.lists(st.sampled_from([b"0x1234", b"0xabcdef", b"0x77777", b"x"]), max_size=4)),
                max_size=30))
def test_sightings_are_grouped_like_a_plain_count(lines):
    """Untracked lines' values: once per line, then per (format, value) the first and last line and how many."""
    data = b"".join(prefix + b" " + b" ".join(words) + b"\n" for prefix, words in lines)
    starts = line_starts(data)
    kinds = classify(data, starts)
    expected: dict[tuple[int, int], list[int]] = {}
    for i, (_prefix, words) in enumerate(lines):
        if kinds[i] & TRACKED:
            continue
        for value in dict.fromkeys(int(w, 16) for w in words if w != b"x"):
            expected.setdefault((int(kinds[i]) & 0x7F, value), []).append(i)
    found = {}
    for code, values, first, last, counts in group_hits(kinds, *_untracked_handles(data, starts, kinds)):
        for value, a, b, n in zip(values.tolist(), first.tolist(), last.tolist(), counts.tolist()):
            found[(code, value)] = (a, b, n)
    assert found == {key: (seen[0], seen[-1], len(seen)) for key, seen in expected.items()}


@pytest.mark.parametrize("name", [p.name for p in FIXTURES] + ["genlog-formats", "genlog-trace"])
def test_kinds_agree_with_the_parser(name):
    data = sample(name[7:]) if name.startswith("genlog") else next(p for p in FIXTURES if p.name == name).read_bytes()
    starts = line_starts(data)
    kinds = classify(data, starts)
    chunk = Chunk("t", "file", 0, 0, data, not data.endswith(b"\n"), 0.0, 0.0, seq=1)
    parser = Parser()
    for line, kind in zip(chunk.lines(), kinds.tolist()):
        (record, *_) = parser.parse(line)
        fast = FORMAT_NAMES[kind & 0x7F]
        if line.data.startswith(b"\t"):  # a tab line is vn_env's only right after its header: the parser knows
            assert record.fmt in ("mesa", "text")
        elif kind == TEXT | TRACKED:  # a family's marker inside other text: the parser peels and decides
            assert any(literal in line.data for literal in DEFAULT.search.literals), line.data
        elif kind == TEXT:  # a family the model does not follow may still be recognised, for the reader
            assert record.fmt == "text" or record.level in ("debug", "info"), (line.data, record.fmt)
        else:
            assert fast == record.fmt, (line.data, fast, record.fmt)
        if record.level in ("warn", "error") or record.fmt in ("mesa", "step"):
            assert kind & TRACKED, line.data


# Loggers' shapes the fixtures lack (synthetic lines, labelled): what they say at warn or error reaches the model.
LOGGER_SHAPES = [
    b"[2025-06-10T12:00:00Z ERROR devices::virtio::gpu] something failed",
    b"2025-06-10T12:00:00.123Z ERROR devices::virtio::gpu: virtio_gpu ctrl failed",
    b"2025-06-10T12:00:00.123456Z  WARN vmm::builder: failed to map",
    b"[2025-06-10T12:00:00Z WARN  hvf] map_memory failed",
    b'{"log":"[WARN  hvf] map_memory: err -85377021\\n","stream":"stderr","time":"2025-06-10T12:00:00Z"}',
    b'time="2025-06-10T12:00:00Z" level=error msg="krunkit: vm failed: exit status 1"',
    b'{"level":"error","msg":"MESA-VIRTIO: debug: stuck in fence wait with iter at 1024"}',
    b"[1234:1250:1126/100000.123456:ERROR:vulkan_instance.cc(129)] failed: VK_ERROR_INCOMPATIBLE_DRIVER",
    b"ERROR:            loader_get_json: Failed to open JSON file /usr/share/vulkan/icd.d/radeon_icd.x86_64.json",
    b"ERROR | DRIVER:   some other driver failure",
]


def test_loggers_warnings_and_errors_are_tracked():
    data = b"\n".join(LOGGER_SHAPES) + b"\n"
    kinds = classify(data, line_starts(data))
    parser = Parser()
    for line, kind in zip(LOGGER_SHAPES, kinds.tolist()):
        (fmt, what, _, level, *_), = parser.parts("t", "file", line)
        assert fmt != "text" and level in ("warn", "error") and kind & TRACKED, (line, fmt, what, level)


@pytest.mark.parametrize("name", ["lab+seed", "genlog-formats", "genlog-trace"])
def test_fast_path_builds_the_same_model_as_parsing_everything(name):
    if name == "lab+seed":
        data = b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in FIXTURES)
    else:
        data = sample(name[7:], 20_000)

    def fold(parse_all: bool) -> dict:
        model = Model()
        ingest = Ingest(Parser(), model, parse_all=parse_all)
        seq, offset = 1, 0
        for piece in re.findall(rb"(?:[^\n]*\n){1,997}", data):  # odd-sized chunks
            chunk = Chunk("mixed", "file", 0, offset, piece, False, 0.0, 0.0, seq=seq)
            ingest.fold(chunk)
            seq += chunk.count
            offset += len(piece)
        snapshot = model.snapshot()
        del snapshot["counts"], snapshot["kinds"]  # records by message exist only for parsed lines
        return snapshot

    assert fold(parse_all=False) == fold(parse_all=True)


def test_index_file_matches_the_live_index(tmp_path, monkeypatch):
    """One process, forked parts (arrays back through pipes), and threads (when other threads run): one answer."""
    import threading

    import venustui.index

    data = sample("formats", 30_000) + b"no newline at the end"
    path = tmp_path / "big.log"
    path.write_bytes(data)
    single = index_file(path, workers=1)
    assert single.lines == data.count(b"\n") + 1
    starts = line_starts(data)
    assert np.array_equal(single.offsets, starts) and np.array_equal(single.kinds, classify(data, starts))
    monkeypatch.setattr(venustui.index, "MIN_SPLIT", 1)
    monkeypatch.setattr(venustui.index, "SLICE", 64 << 10)  # several slices a part
    forks = []
    real_forked = venustui.index._index_forked
    monkeypatch.setattr(venustui.index, "_index_forked", lambda *a: forks.append(a) or real_forked(*a))
    forked = index_file(path, workers=3)
    assert len(forks) == 1 and len(forks[0][1]) == 3  # the parts were forked
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        threaded = index_file(path, workers=3)
    finally:
        release.set()
        other.join()
    assert len(forks) == 1  # not with a second thread running
    for index in (forked, threaded):
        assert np.array_equal(index.offsets, single.offsets) and np.array_equal(index.kinds, single.kinds)


def test_hostile_lines_through_the_fast_path(tmp_path):
    """The core's bad-input bytes, folded by the session: every line counted, offsets exact."""
    from venustui.session import Session
    from venustui.sources import parse_spec

    payload = (b"ok\r\n" + b"bad \xff\xfe utf8 0x5000 \n" + b"nul\x00inside\n" + b"\x1b[31m[VKR] x\x1b[0m\n"
               + b"[bold]markup[/] [/]\n" + b"M" * (4 << 20) + b"\n" + b"\n" + b"end 0x50000000005")
    path = tmp_path / "hostile.log"
    path.write_bytes(payload)
    session = Session([parse_spec(str(path))], follow=False)
    session.start()
    folded = session.run_to_end()
    session.stop()
    assert session.model.lines["hostile.log"] == 8
    offsets = [line.offset for event, _ in folded if isinstance(event, Chunk) for line in event.lines()]
    expected = [0]
    for part in payload.split(b"\n")[:-1]:
        expected.append(expected[-1] + len(part) + 1)
    assert offsets == expected
    assert session.model.handles[0x50000000005].count == 1 and session.model.handles[0x5000].count == 1
