"""Line splitting accounts for every byte: offsets, partial lines, flushes."""

from hypothesis import given, settings, strategies as st

from venustui.sources.split import LineSplitter


def test_partial_line_is_held_until_newline():
    split = LineSplitter("s", "file")
    assert split.feed(b"abc") == []
    lines = split.feed(b"def\nxy")
    assert [(l.data, l.offset, l.terminated) for l in lines] == [(b"abcdef", 0, True)]
    assert split.pending == 2
    flushed = split.flush()
    assert [(l.data, l.offset, l.terminated) for l in flushed] == [(b"xy", 7, False)]
    assert split.offset == 9


def test_crlf_and_nul_bytes_are_kept_raw():
    split = LineSplitter("s", "file")
    lines = split.feed(b"a\r\nb\x00c\n")
    assert [l.data for l in lines] == [b"a\r", b"b\x00c"]
    assert [l.offset for l in lines] == [0, 3]


@settings(deadline=None, max_examples=300)
@given(st.binary(max_size=2000), st.lists(st.integers(min_value=1, max_value=64), max_size=60))
def test_any_chunking_loses_and_shifts_nothing(data, cuts):
    split = LineSplitter("s", "file")
    lines = []
    pos = 0
    for cut in cuts:
        lines += split.feed(data[pos:pos + cut])
        pos += cut
    lines += split.feed(data[pos:])
    lines += split.flush()
    rebuilt = b"".join(l.data + (b"\n" if l.terminated else b"") for l in lines)
    assert rebuilt == data
    expected = 0
    for line in lines:
        assert line.offset == expected
        expected = line.end
    assert expected == len(data)
