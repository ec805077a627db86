"""Command and stdin sources: two tagged streams, exit status, process groups ended."""

from __future__ import annotations

import signal
import sys

import pytest

from venustui import events as ev
from venustui.errors import UserError
from venustui.sources import parse_spec
from venustui.sources.stream import CommandSource
from venustui.sources.stream import process_alive as alive

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
