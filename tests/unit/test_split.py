"""Chunking accounts for every byte: offsets, partial lines, flushes, and lines rebuilt from chunks."""

from hypothesis import given, settings
from hypothesis import strategies as st

from venustui.sources.split import ChunkSplitter

from ..conftest import fed_in_pieces


def lines_of(chunks):
    return [line for chunk in chunks for line in chunk.lines()]


def test_partial_line_is_held_until_newline():
    split = ChunkSplitter("s", "file")
    assert split.feed(b"abc") == []
    chunks = split.feed(b"def\nxy")
    assert [(l.data, l.offset, l.terminated) for l in lines_of(chunks)] == [(b"abcdef", 0, True)]
    assert split.pending == 2
    flushed = split.flush()
    assert [(l.data, l.offset, l.terminated) for l in lines_of(flushed)] == [(b"xy", 7, False)]
    assert split.offset == 9


def test_crlf_and_nul_bytes_are_kept_raw():
    split = ChunkSplitter("s", "file")
    lines = lines_of(split.feed(b"a\r\nb\x00c\n"))
    assert [l.data for l in lines] == [b"a\r", b"b\x00c"]
    assert [l.offset for l in lines] == [0, 3]


def test_chunk_line_numbers_follow_its_seq():
    split = ChunkSplitter("s", "file")
    (chunk,) = split.feed(b"a\nb\nc\n")
    chunk.seq = 10
    assert chunk.count == 3 and [l.seq for l in chunk.lines()] == [10, 11, 12]


@settings(deadline=None, max_examples=300)
@given(st.binary(max_size=2000), st.lists(st.integers(min_value=1, max_value=64), max_size=60))
def test_any_chunking_loses_and_shifts_nothing(data, cuts):
    chunks = fed_in_pieces(ChunkSplitter("s", "file"), data, cuts)
    assert b"".join(c.data for c in chunks) == data
    lines = lines_of(chunks)
    assert sum(c.count for c in chunks) == len(lines)
    rebuilt = b"".join(l.data + (b"\n" if l.terminated else b"") for l in lines)
    assert rebuilt == data
    expected = 0
    for line in lines:
        assert line.offset == expected
        expected = line.end
    assert expected == len(data)
