"""Command and stdin sources: two tagged streams, exit status, process groups ended."""

from __future__ import annotations

import codecs
import os
import signal
import sys

import pytest

from venustui import events as ev
from venustui.errors import UserError
from venustui.sources import parse_spec
from venustui.sources.stream import CommandSource, PipeReader
from venustui.sources.stream import process_alive as alive
from venustui.sources.tail import FileTail
from venustui.sources.utf16 import StreamText

from ..conftest import Collect, run_cli, wait_for


def test_spec_syntax():
    assert parse_spec("host=cmd:ssh guest 'journalctl -f'").argv == ("ssh", "guest", "journalctl -f")
    assert parse_spec("cmd:dmesg -w").label == "dmesg"
    assert parse_spec("-").kind == "stdin"
    assert parse_spec("guest=/tmp/x.log").label == "guest"
    assert parse_spec("/var/log/x.log").label == "x.log"
    with pytest.raises(UserError, match="quotes"):
        parse_spec("cmd:echo 'unclosed")


def test_stdout_and_stderr_are_separate_streams():
    sink = Collect()
    code = "import sys; print('out-line', flush=True); print('err-line', file=sys.stderr, flush=True); sys.exit(3)"
    source = CommandSource("host", [sys.executable, "-c", code], sink)
    source.start()
    wait_for(lambda: sink.notices(ev.EXITED))
    streams = {l.data: l.stream for l in sink.lines()}
    assert streams == {b"out-line": "stdout", b"err-line": "stderr"}
    exited = sink.notices(ev.EXITED)[0]
    assert exited.detail["returncode"] == 3 and "status 3" in exited.message


def test_a_hang_that_ignores_sigint_and_sigterm_is_killed_with_its_children():
    sink = Collect()
    code = ("import os, signal, subprocess, sys, time\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import signal,time; "
            "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
            "print(child.pid, flush=True)\n"
            "while True: time.sleep(1)\n")
    source = CommandSource("guest", [sys.executable, "-c", code], sink, grace=0.5)
    source.start()
    child_pid = int(wait_for(lambda: sink.lines())[0].data)
    leader = source.proc.pid
    source.stop()
    source.join(10)
    wait_for(lambda: not alive(leader) and not alive(child_pid))
    assert source.proc.returncode == -signal.SIGKILL


def test_missing_command_is_a_user_error():
    with pytest.raises(UserError, match="command not found"):
        CommandSource("x", ["/nonexistent/venus-guest"], Collect()).start()


def test_stdin_source_through_the_cli():
    out = run_cli("watch", "-", input=b"6. Submit: 0  (VK_SUCCESS)\npartial")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "step 6 Submit → VK_SUCCESS" in text and "partial" in text


def test_cmd_source_through_the_cli():
    out = run_cli("watch", f"host=cmd:{sys.executable} -c \"import sys; print('[VKR] vkGetFenceStatus: ret=1'); "
                  f"print('vkr: mem is not exportable', file=sys.stderr)\"")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "host:stdout" in text and "GetFenceStatus → VK_NOT_READY" in text
    assert "host:stderr" in text and "mem is not exportable" in text


# A log PowerShell's ">" wrote (UTF-16, a byte-order mark, CRLF; a QEMU on Windows, real-threads-extra/09), piped,
# redirected or printed by a command (`cat /mnt/c/…/qemu.txt` from WSL): read as the same text in UTF-8.
WINDOWS_LINE = "qemu-system-x86_64.exe: -device virtio-vga-gl: opengl is not available · ✓"


def utf16_le(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le")


def test_utf16_bytes_in_any_pieces_come_out_as_the_same_utf8_and_nothing_is_lost():
    text = "vkr: failed to import resource: invalid res_id 9\n✓ \ud800 done\n"
    raw = codecs.BOM_UTF16_BE + text.encode("utf-16-be", "surrogatepass") + b"\x41"
    for size in (1, 2, 3, 5, 64):
        reader = StreamText()
        out = b"".join(reader.feed(raw[at:at + size]) for at in range(0, len(raw), size)) + reader.rest()
        assert out == text.encode("utf-8", "surrogatepass") + b"\x41"
    high = StreamText()  # a lone high surrogate at the very end: as UTF-8 gives it, as it would be mid-stream
    assert high.feed(codecs.BOM_UTF16_LE + b"A\x00\x3d\xd8") + high.rest() == "A\ud83d".encode("utf-8", "surrogatepass")
    plain = StreamText()  # no byte-order mark: the bytes as they are, a lone first byte included
    assert plain.feed(b"\xff") == b"" and plain.rest() == b"\xff"
    assert plain.feed(b"") == b""
    other = StreamText()
    assert other.feed(b"\xff\xfd\x00") == b"\xff\xfd\x00" and not other.found_utf16 and other.utf16 is None


def test_a_utf16_log_on_stdin_and_from_a_command_through_the_cli(tmp_path):
    out = run_cli("watch", "-", input=utf16_le(WINDOWS_LINE + "\n"))
    assert out.returncode == 0, out.stderr
    assert "opengl is not available · ✓" in out.stdout.decode() and "UTF-16" in out.stdout.decode()
    saved = tmp_path / "qemu.txt"
    saved.write_bytes(utf16_le(WINDOWS_LINE + "\n"))
    out = run_cli("watch", f"host=cmd:cat {saved}")
    assert out.returncode == 0, out.stderr
    assert "host:stdout" in out.stdout.decode() and "opengl is not available · ✓" in out.stdout.decode()


def test_a_utf16_log_through_a_fifo_and_a_serial_console_left_as_its_bytes(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    sink = Collect()
    tail = FileTail("fifo", fifo, sink, follow=False, poll_interval=0.05)
    tail.start()
    with open(fifo, "wb") as f:
        f.write(utf16_le(WINDOWS_LINE + "\n"))
    tail.join(30)
    assert [l.data for l in sink.lines()] == [(WINDOWS_LINE + "\r").encode("utf-8")]
    assert any("UTF-16" in n.message for n in sink.notices(ev.OPENED))
    # a guest's console is the guest's bytes: a byte-order mark there is noise, not a way of reading
    read, write = os.pipe()
    sink = Collect()
    reader = PipeReader("guest", "serial", read, sink, read_utf16=False)
    reader.start()
    os.write(write, codecs.BOM_UTF16_LE + b"login:\n")
    os.close(write)
    reader.join(30)
    os.close(read)
    assert [l.data for l in sink.lines()] == [codecs.BOM_UTF16_LE + b"login:"]
