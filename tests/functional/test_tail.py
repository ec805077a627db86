"""Tailing real files: appends, partial lines, rotation, copytruncate, deletion, late files, globs, bad bytes."""

from __future__ import annotations

import codecs
import os
import time
from pathlib import Path

import pytest

from venustui import events as ev
from venustui.errors import UserError
from venustui.sources import GlobSource, parse_spec
from venustui.sources.tail import FileTail, check_readable
from venustui.sources.watcher import Watcher

from ..conftest import DATA, Collect, wait_for


@pytest.fixture
def tail_of(tmp_path):
    started = []
    watcher = Watcher()

    def make(path: Path, follow: bool = True, **kwargs) -> tuple[FileTail, Collect]:
        sink = Collect()
        tail = FileTail(path.name, path, sink, follow=follow, poll_interval=0.05, watcher=watcher, **kwargs)
        tail.start()
        started.append(tail)
        return tail, sink

    yield make
    for tail in started:
        tail.stop()
        tail.join(5)
    watcher.close()


def data_of(lines) -> list[bytes]:
    return [l.data for l in lines]


def test_appends_arrive_with_exact_offsets(tmp_path, tail_of):
    path = tmp_path / "host.log"
    path.write_bytes(b"one\ntwo\n")
    tail, sink = tail_of(path)
    wait_for(lambda: len(sink.lines()) == 2)
    with open(path, "ab") as f:
        f.write(b"three\n")
    wait_for(lambda: len(sink.lines()) == 3)
    assert data_of(sink.lines()) == [b"one", b"two", b"three"]
    assert [l.offset for l in sink.lines()] == [0, 4, 8]


def test_partial_line_waits_for_its_newline_however_long_and_goes_out_at_stop(tmp_path, tail_of):
    """A line written in two parts, seconds apart, is one line; an unfinished one goes out when the tail stops."""
    path = tmp_path / "g.log"
    path.write_bytes(b"")
    tail, sink = tail_of(path)
    with open(path, "ab") as f:
        f.write(b"[VKR] vkCreateFe")
        f.flush()
        wait_for(lambda: tail.bytes_read == 16)
        time.sleep(1.0)  # longer than any idle flush used to be
        assert sink.lines() == []
        f.write(b"nce: fence 0x50000000005\n")
    wait_for(lambda: sink.lines())
    assert data_of(sink.lines()) == [b"[VKR] vkCreateFence: fence 0x50000000005"]
    unfinished = tmp_path / "g2.log"
    unfinished.write_bytes(b"no newline")
    tail2, sink2 = tail_of(unfinished)
    wait_for(lambda: tail2.bytes_read == 10)
    assert sink2.lines() == []
    tail2.stop()
    line = wait_for(lambda: sink2.lines())[0]
    assert line.data == b"no newline" and line.terminated is False


def test_rename_rotation_keeps_old_tail_and_reads_new_file(tmp_path, tail_of):
    path = tmp_path / "host.log"
    path.write_bytes(b"a1\n")
    tail, sink = tail_of(path)
    wait_for(lambda: len(sink.lines()) == 1)
    with open(path, "ab") as f:
        f.write(b"a2\na-partial")  # written just before rotation
    os.rename(path, tmp_path / "host.log.1")
    path.write_bytes(b"b1\n")
    wait_for(lambda: b"b1" in data_of(sink.lines()))
    assert data_of(sink.lines()) == [b"a1", b"a2", b"a-partial", b"b1"]
    assert sink.notices(ev.ROTATED)
    new = sink.lines()[-1]
    assert (new.generation, new.offset) == (1, 0)


def test_copytruncate_and_truncation_under_the_reader(tmp_path, tail_of):
    path = tmp_path / "host.log"
    path.write_bytes(b"x" * 100 + b"\n")
    tail, sink = tail_of(path)
    wait_for(lambda: len(sink.lines()) == 1)
    with open(path, "r+b") as f:  # copytruncate: same inode, emptied, then new writes
        f.truncate(0)
    wait_for(lambda: sink.notices(ev.TRUNCATED))
    with open(path, "ab") as f:
        f.write(b"after\n")
    wait_for(lambda: b"after" in data_of(sink.lines()))
    last = sink.lines()[-1]
    assert (last.data, last.generation, last.offset) == (b"after", 1, 0)


def test_truncate_then_rewrite_longer_is_read_from_start(tmp_path, tail_of):
    path = tmp_path / "host.log"
    path.write_bytes(b"first\n")
    tail, sink = tail_of(path, follow=True)
    wait_for(lambda: len(sink.lines()) == 1)
    tail.poll_interval = 5  # make sure both writes land before the next look
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(b"rewritten and longer\n")
    tail.wake.set()
    wait_for(lambda: b"rewritten and longer" in data_of(sink.lines()))
    assert sink.lines()[-1].offset == 0


def test_deleted_and_recreated(tmp_path, tail_of):
    path = tmp_path / "g.log"
    path.write_bytes(b"before\n")
    tail, sink = tail_of(path)
    wait_for(lambda: len(sink.lines()) == 1)
    path.unlink()
    wait_for(lambda: sink.notices(ev.DELETED))
    path.write_bytes(b"after\n")
    wait_for(lambda: b"after" in data_of(sink.lines()))
    assert sink.notices(ev.RECREATED)


def test_file_that_appears_later(tmp_path, tail_of):
    path = tmp_path / "late.log"
    tail, sink = tail_of(path)
    wait_for(lambda: sink.notices(ev.WAITING))
    path.write_bytes(b"here now\n")
    wait_for(lambda: sink.lines())
    assert data_of(sink.lines()) == [b"here now"]


def test_glob_picks_up_new_files(tmp_path):
    (tmp_path / "a.log").write_bytes(b"a\n")
    sink = Collect()
    spec = parse_spec(str(tmp_path / "*.log"))
    assert spec.kind == "glob"
    source = GlobSource(spec, sink, follow=True, watcher=None, poll_interval=0.05, rescan_interval=0.1)
    source.start()
    try:
        wait_for(lambda: sink.lines("a.log"))
        (tmp_path / "b.log").write_bytes(b"b\n")
        wait_for(lambda: sink.lines("b.log"))
    finally:
        source.stop()
        source.join(5)


def test_hostile_bytes_lose_nothing(tmp_path, tail_of):
    payload = (b"ok\r\n" + b"bad \xff\xfe utf8\n" + b"nul\x00inside\n" + b"\x1b[31mansi\x1b[0m\n"
               + b"[bold]markup[/] [/]\n" + b"M" * (4 << 20) + b"\n" + b"\n" + b"end")
    path = tmp_path / "hostile.log"
    path.write_bytes(payload)
    tail, sink = tail_of(path, follow=False)
    tail.join(30)
    lines = sink.lines()
    rebuilt = b"".join(l.data + (b"\n" if l.terminated else b"") for l in lines)
    assert rebuilt == payload
    assert len(lines) == 8 and lines[5].data == b"M" * (4 << 20) and lines[-1].terminated is False
    assert sink.notices(ev.EOF)[0].detail["bytes"] == len(payload)


def test_empty_file(tmp_path, tail_of):
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    tail, sink = tail_of(path, follow=False)
    tail.join(10)
    assert sink.lines() == [] and sink.notices(ev.EOF)


def test_unreadable_paths_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        check_readable(tmp_path / "missing.log")
    with pytest.raises(UserError, match="is a directory"):
        check_readable(tmp_path)


def test_a_utf16_file_is_read_as_utf8_text(tmp_path, tail_of, monkeypatch):
    """PowerShell's ">" writes UTF-16 with a byte-order mark and CRLF (a QEMU on Windows, real-threads-extra/09):
    its lines come as the same text in UTF-8, whatever the reads cut (odd sizes, inside a character)."""
    monkeypatch.setattr("venustui.sources.tail.CHUNK", 7)
    (windows,) = (DATA / "real-threads-extra").glob("09-*.log")
    text = windows.read_text(encoding="utf-8").replace("\n", "\r\n") + "done · ✓\r\n"
    path = tmp_path / "qemu-stderr.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    tail, sink = tail_of(path, follow=False)
    tail.join(30)
    assert b"".join(l.data + b"\n" for l in sink.lines()) == text.encode("utf-8")
    assert "UTF-16" in sink.notices(ev.OPENED)[0].message
    # big-endian, a lone surrogate and an odd last byte: passed on, never dropped
    odd = tmp_path / "odd.txt"
    odd.write_bytes(codecs.BOM_UTF16_BE + "a\n".encode("utf-16-be") + b"\xd8\x00" + "\n".encode("utf-16-be") + b"\x41")
    tail, sink = tail_of(odd, follow=False)
    tail.join(30)
    assert data_of(sink.lines()) == [b"a", "\ud800".encode("utf-8", "surrogatepass"), b"\x41"]


def test_a_utf16_file_written_after_it_was_opened_empty(tmp_path, tail_of):
    path = tmp_path / "later.txt"
    path.write_bytes(b"")
    tail, sink = tail_of(path)
    with open(path, "ab") as f:
        f.write(codecs.BOM_UTF16_LE + "vkr: failed to import resource: invalid res_id 9\r\n".encode("utf-16-le"))
    wait_for(lambda: sink.lines())
    assert data_of(sink.lines()) == [b"vkr: failed to import resource: invalid res_id 9\r"]
