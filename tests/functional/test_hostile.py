"""The hostile-input audit's thirteen defects (and escape sequences), each reproduced for real: real files,
FIFOs, symlinks, subprocesses, signals and privileges dropped with setpriv. Each test failed at commit
8945547. Bounds are asserted as bounds (peak RSS, lines that arrive, counts that agree), never as times."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from venustui import config as config_mod
from venustui.diagnose import diagnose
from venustui.errors import UserError
from venustui.events import Chunk
from venustui.journal import FILE_MAGIC, Journal
from venustui.session import Session
from venustui.sources import parse_spec
from venustui.sources.split import ChunkSplitter

from ..conftest import ROOT, SEED, fed_in_pieces, run_cli, wait_for

VENUSTUI = [sys.executable, "-m", "venustui"]


# A small process that runs argv and reports its peak resident memory (wait4's ru_maxrss, in KiB) on a pipe. The
# measure must come from a small parent: Linux counts in a child's peak the memory of the process it was forked
# from, until it executes (pytest's own, after the tests before it, is often past any bound here).
_MEASURING_PARENT = """
import os, shutil, sys
report, argv = int(sys.argv[1]), sys.argv[2:]
os.set_inheritable(report, False)  # the measured program's own children must not hold the pipe open
pid = os.posix_spawn(shutil.which(argv[0]) or argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
os.write(report, str(usage.ru_maxrss).encode())
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_rss_mib(argv: list[str], timeout: float = 120, **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    """Run argv to its end; its own peak resident memory, from the kernel's accounting (wait4)."""
    read_end, write_end = os.pipe()
    try:
        out = subprocess.run([sys.executable, "-c", _MEASURING_PARENT, str(write_end), *argv], capture_output=True,
                             cwd=ROOT, timeout=timeout, pass_fds=(write_end,), **kwargs)
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as report:
        peak_kib = report.read()
    assert peak_kib, f"no measure of {argv}: {out.stderr!r}"
    return subprocess.CompletedProcess(argv, out.returncode, out.stdout, out.stderr), int(peak_kib) / 1024


def one_line_error(out: subprocess.CompletedProcess, *needles: str) -> str:
    err = out.stderr.decode()
    assert out.returncode == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


# 1. a line with no newline ------------------------------------------------------------------------------
def test_a_line_with_no_newline_is_cut_and_memory_stays_flat(tmp_path):
    """A 256 MiB sparse file is one line of NULs: its first LINE_LIMIT bytes are a line (marked cut), the
    rest is counted; the process never holds the line (at 8945547 it took ~1 GB and quadratic time)."""
    sparse = tmp_path / "z.log"
    with open(sparse, "wb") as f:
        f.truncate(256 << 20)
    out, rss = peak_rss_mib([*VENUSTUI, "watch", "-q", "--no-follow", str(sparse)])
    assert out.returncode == 0, out.stderr
    assert rss < 200, rss
    assert b"1 line(s) longer than 4 MiB" in out.stdout


def test_an_endless_source_levels_off(tmp_path):
    """cmd:head -c 256M /dev/zero (a pipe that never sends a newline): memory stays flat."""
    out, rss = peak_rss_mib([*VENUSTUI, "watch", "-q", "--no-follow", f"cmd:head -c {256 << 20} /dev/zero"])
    assert out.returncode == 0, out.stderr
    assert rss < 200, rss


def test_a_cut_line_keeps_every_byte_in_the_journal(tmp_path):
    from venustui.events import LINE_LIMIT  # names added with the fix are imported where used, so that
    # every test here can run (and fail for its own reason) against the code before it
    log = tmp_path / "long.log"
    long_line = b"[VKR] vkCreateFence: " + b"x" * (LINE_LIMIT + 12345)
    log.write_bytes(b"before\n" + long_line + b"\nafter 0x50000000005\n")
    path = tmp_path / "long.vtj"
    out = run_cli("record", "-n", "-o", str(path), str(log))
    assert out.returncode == 0, out.stderr
    journal = Journal.open(path)
    events = list(journal.events())
    chunks = [e for e in events if isinstance(e, Chunk)]
    assert b"".join(c.data for c in chunks) == log.read_bytes()  # every byte, in order
    assert [c.overflow for c in chunks].count(True) >= 1 and any(c.cut for c in chunks)
    session = Session([], follow=False)
    for event in events:
        session.fold(event)
    model = session.model
    assert model.lines["long.log"] == 3 and model.cut_lines["long.log"] == 1
    assert model.overflow_bytes["long.log"] == len(long_line) - LINE_LIMIT + 1  # its newline too
    assert model.handles[0x50000000005].count == 1  # the line after the cut one is a line of its own


@settings(deadline=None, max_examples=300)
@given(st.lists(st.binary(max_size=40), max_size=30), st.lists(st.integers(1, 50), max_size=40),
       st.integers(1, 12))
def test_any_bytes_in_any_pieces_with_a_line_limit(lines, cuts, limit):
    """Every byte accounted for; no line longer than the limit; cut lines end where their overflow begins."""
    data = b"\n".join(lines)
    chunks = fed_in_pieces(ChunkSplitter("s", "file", line_limit=limit), data, cuts)
    assert b"".join(c.data for c in chunks) == data
    offset = 0
    for chunk in chunks:
        assert chunk.offset == offset
        offset += len(chunk.data)
        for line in chunk.lines():
            assert len(line.data) <= limit
    expected_lines = []
    for raw in data.split(b"\n")[:-1] + ([data.rsplit(b"\n", 1)[-1]] if not data.endswith(b"\n") else []):
        expected_lines.append(raw[:limit])
    if data == b"":
        expected_lines = []
    assert [line.data for c in chunks for line in c.lines()] == expected_lines
    assert sum(c.count for c in chunks) == len(expected_lines)


# 2. a FIFO -----------------------------------------------------------------------------------------------
def test_a_fifo_gives_every_line_and_ends_when_its_writer_does(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)

    def writer():
        time.sleep(1.5)
        with open(fifo, "wb") as f:
            f.write(b"l1\nl2\nl3\n")

    thread = threading.Thread(target=writer)
    thread.start()
    out = run_cli("watch", "--no-follow", str(fifo), timeout=30)
    thread.join()
    assert out.returncode == 0, out.stderr
    shown = [line for line in out.stdout.decode().splitlines() if "text/text" in line]
    assert [line.split()[-1] for line in shown] == ["l1", "l2", "l3"]


def test_a_fifo_with_no_writer_ends_on_ctrl_c_without_a_traceback(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*VENUSTUI, "watch", "--no-follow", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and b"Traceback" not in err, err
    assert b"model summary" in out


# 3. and 4. paths that cannot be read ----------------------------------------------------------------------
def test_a_symlink_loop_is_one_line_in_every_mode(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    loop = str(tmp_path / "a")
    for args in (["watch", "--no-follow", loop], ["watch", loop], ["record", "-o", str(tmp_path / "j.vtj"), loop]):
        one_line_error(run_cli(*args), "loop of symbolic links")
    assert not (tmp_path / "j.vtj").exists()


needs_setpriv = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                                   reason="drops root's file-access capabilities with setpriv")
DROP = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps",
        "-dac_override,-dac_read_search"]


@needs_setpriv
def test_a_file_in_an_unsearchable_folder_is_one_line_in_every_mode(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "host.log").write_text("x\n")
    folder.chmod(0o000)
    try:
        for args in (["watch", "--no-follow"], ["watch"], ["record", "-o", str(tmp_path / "j.vtj")]):
            out = subprocess.run([*DROP, *VENUSTUI, *args, str(folder / "host.log")], capture_output=True,
                                 cwd=ROOT, timeout=60)
            one_line_error(out, "permission denied")
    finally:
        folder.chmod(0o755)


# 5. a line written in two parts -----------------------------------------------------------------------------
@pytest.mark.parametrize("first, second, check", [
    (b"[VKR] vkCreateFe", b"nce: fence 0x50000000005\n",
     lambda r: r.fmt == "vkr" and r.fields["fn"] == "CreateFence"),
    (b"MESA-VIRTIO: vn_queue_sub", b"mit: VK_ERROR_DEVICE_LOST\n",
     lambda r: r.fmt == "mesa" and "DEVICE_LOST" in str(r.fields)),
])
def test_a_line_written_in_two_parts_is_one_record(tmp_path, first, second, check):
    log = tmp_path / "two.log"
    log.write_bytes(b"")
    session = Session([parse_spec(str(log))], follow=True, poll_interval=0.05)
    session.start()
    records = []
    try:
        with open(log, "ab") as f:
            f.write(first)
            f.flush()
            wait_for(lambda: session.sources[0].bytes_read == len(first))
            deadline = time.monotonic() + 2.0  # longer than the idle flush that split it at 8945547
            while time.monotonic() < deadline:
                records += [r for _, rs in session.pump(0.1) for r in rs]
            f.write(second)
        wait_for(lambda: records.extend(r for _, rs in session.pump(0.1) for r in rs)
                 or session.model.lines["two.log"] >= 1)
    finally:
        session.stop()
    assert session.model.lines["two.log"] == 1
    assert len(records) == 1 and check(records[0]), records


def test_a_pipe_line_written_in_two_parts_is_one_line(tmp_path):
    script = "printf '[VKR] vkCreateFe'; sleep 1.5; printf 'nce: fence 0x50000000005\\n'"
    out = run_cli("watch", "--no-follow", f"cmd:sh -c {json.dumps(script)}")
    assert out.returncode == 0, out.stderr
    shown = [line for line in out.stdout.decode().splitlines() if "sh:stdout" in line and "source/" not in line]
    assert len(shown) == 1 and "vkr/call" in shown[0] and "CreateFence" in shown[0], shown
    recorded = run_cli("record", "-n", "-o", str(tmp_path / "p.vtj"), f"cmd:sh -c {json.dumps(script)}")
    assert recorded.returncode == 0 and b"read 1 lines, recorded 1 " in recorded.stdout, recorded.stdout


# 6. Ctrl-C under load -------------------------------------------------------------------------------------
def test_ctrl_c_under_load_prints_counts_that_agree(tmp_path):
    log = tmp_path / "flood.log"
    with open(log, "wb") as f:
        line = b"[VKR] vkQueueSubmit: fence=0x50000000005 ret=0 and some more text to fill the line\n"
        f.write(line * 1_500_000)  # ~130 MB: more than is folded before the signal
    path = tmp_path / "flood.vtj"
    proc = subprocess.Popen([*VENUSTUI, "record", "-o", str(path), str(log)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    read, recorded = (int(n.replace(b",", b"")) for n in re.search(rb"read ([\d,]+) lines, recorded ([\d,]+)",
                                                                   out).groups())
    journal = Journal.open(path)
    in_journal = sum(e.count for e in journal.events() if isinstance(e, Chunk))
    assert 0 < read == recorded == in_journal, (read, recorded, in_journal, err)
    if b"not folded" in err:  # what a stop's deadline left is said, with the numbers
        assert re.search(rb"last [\d,]+ of [\d,]+ lines read", err)


# 7. the journal's header ---------------------------------------------------------------------------------
@pytest.mark.parametrize("where", [3, 30, 200])
def test_one_flipped_bit_in_the_header_loses_nothing(tmp_path, where):
    path = tmp_path / "seed.vtj"
    seed = [str(SEED / name) for name in ("guest.log", "host.log", "guest-no_fence_feedback.log",
                                          "host-no_fence_feedback.log")]
    out = run_cli("record", "-n", "-o", str(path), *seed)
    assert out.returncode == 0
    lines = int(re.search(rb"recorded ([\d,]+)", out.stdout).group(1).replace(b",", b""))
    data = bytearray(path.read_bytes())
    data[where] ^= 0x01
    path.write_bytes(bytes(data))
    journal = Journal.open(path)
    assert sum(e.count for e in journal.events() if isinstance(e, Chunk)) == lines
    assert journal.header.get("host") and journal.unreadable == 0, journal.problems
    replayed = run_cli("replay", "--summary", str(path))
    assert replayed.returncode == 0 and b"fence feedback path broken" in replayed.stdout, replayed.stderr


def test_both_header_copies_damaged_still_replays_every_line(tmp_path):
    path = tmp_path / "seed.vtj"
    run_cli("record", "-n", "-o", str(path), str(SEED / "host.log"))
    data = bytearray(path.read_bytes())
    second = data.index(b"\xf5VTJ", len(FILE_MAGIC) + 1)
    data[len(FILE_MAGIC) + 60] ^= 0xFF
    data[second + 60] ^= 0xFF
    path.write_bytes(bytes(data))
    journal = Journal.open(path)
    assert sum(e.count for e in journal.events() if isinstance(e, Chunk)) == len(
        (SEED / "host.log").read_bytes().splitlines())
    assert any("header" in p for p in journal.problems)


# 8. a catastrophic user regex ----------------------------------------------------------------------------
def test_a_catastrophic_user_regex_cannot_stall_the_fold(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[[rules]]\nname = 'evil'\npattern = '(a+)+$'\n")
    log = tmp_path / "a.log"
    log.write_bytes(b"a" * 30 + b"!\n" + b"a" * 40 + b"\n")
    out = run_cli("--config", str(config), "watch", "--no-follow", str(log), timeout=60)
    assert out.returncode == 0, out.stderr
    assert b"user:evil/evil" in out.stdout and b"text/text" in out.stdout


def test_a_user_regex_re2_cannot_run_is_one_line():
    with pytest.raises(UserError, match=r"rules\[0\] \(r\): invalid regex: .*RE2 syntax"):
        config_mod.parse({"rules": [{"name": "r", "pattern": r"(a)\1"}]})


# 9. report injection -------------------------------------------------------------------------------------
HOSTILE = st.lists(st.sampled_from(list("`[]()<>&!\r\n*_#|~\\:/. ") + [
    "https://evil.example/p.png", "www.evil.example", "<img src=x onerror=alert(1)>", "![px](https://e.x/p)",
    "```", "<script>", "&amp;", "a@b.example", "$x$", "\x1b]0;t\x07", "x"]), min_size=1, max_size=12).map("".join)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs


def _report_of(lines: list[str], label: str) -> list:
    from venustui.report import build
    session = Session([], follow=False)
    data = b"".join(line.encode("utf-8", "surrogatepass").replace(b"\n", b" ") + b"\n" for line in lines)
    session.fold(Chunk(label, "file", 0, 0, data, False, 1.0, 1.0, seq=1))
    header = {"host": lines[0], "start_time": "t", "venustui_version": "v", "sources": json.dumps([label])}
    return build(session.model, diagnose(session.model), header)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE, HOSTILE)
def test_log_text_in_a_report_renders_as_literal_text(hostile, label):
    lines = [f"5. Fence created {hostile}", f"MESA-VIRTIO: failed to connect to {hostile}: {hostile}",
             f"vtest_resource_create_blob called virgl_renderer_resource_export_blob which failed (-22) {hostile}"]
    from venustui.report import to_html, to_markdown

    blocks = _report_of(lines, "g`" + label)
    md = MarkdownIt("gfm-like", {"linkify": True})
    tokens = md.parse(to_markdown(blocks))
    stack = list(tokens)
    while stack:
        token = stack.pop()
        assert token.type not in ("html_inline", "html_block", "link_open", "image"), (token, hostile)
        stack.extend(token.children or ())
    headings = [t for t in tokens if t.type == "heading_open"]
    assert len(headings) == 1 + sum(1 for b in blocks if b.kind in ("h2", "h3"))  # nothing swallowed by a fence
    page = _Tags()
    page.feed(to_html(blocks))
    assert page.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "blockquote",
                         "ul", "li", "table", "tr", "td", "pre", "code"}, page.tags
    assert page.attrs == [("charset", "utf-8")]


def test_the_audits_injection_line_is_literal_in_both_reports(tmp_path):
    from venustui.report import to_html, to_markdown

    evil = "<img src=x onerror=alert(1)> ![px](https://evil.example/p.png)"
    blocks = _report_of([f"MESA-VIRTIO: failed to connect to x` {evil}: \r```", "title \x1b]0;pwned\x07 after"],
                        "host`s")
    rendered = MarkdownIt("gfm-like", {"linkify": True}).render(to_markdown(blocks))
    assert "<img" not in rendered and "&lt;img src=x onerror=alert(1)&gt;" in rendered
    assert "href" not in rendered and "## Fences" not in rendered and "<h2>Fences</h2>" in rendered
    assert "<img" not in to_html(blocks) and "\\x0d" in rendered


# 10. record refuses to destroy its input ------------------------------------------------------------------
def test_record_never_overwrites_a_source_or_a_file_that_is_not_a_journal(tmp_path):
    log = tmp_path / "a.log"
    content = b"".join(b"line %d\n" % i for i in range(100_000))
    log.write_bytes(content)
    os.link(log, tmp_path / "hard.log")
    (tmp_path / "sym.log").symlink_to(log)
    for output in (log, tmp_path / "hard.log", tmp_path / "sym.log"):
        one_line_error(run_cli("record", "-n", "-o", str(output), str(log)), "itself")
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    one_line_error(run_cli("record", "-n", "-o", str(notes), str(log)), "not a venustui journal", "--force")
    assert log.read_bytes() == content and notes.read_text() == "my notes\n"
    assert run_cli("record", "-n", "--force", "-o", str(notes), str(log)).returncode == 0
    assert notes.read_bytes().startswith(FILE_MAGIC)


def test_a_glob_never_records_its_own_journal(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "host.log").write_bytes(b"1\n2\n3\n4\n")
    out = run_cli("record", "--idle-exit", "2", "-o", str(logs / "s.vtj"), str(logs / "*"))
    assert out.returncode == 0, out.stderr
    assert b"read 4 lines, recorded 4 " in out.stdout, out.stdout


# 11-13. numbers and messages --------------------------------------------------------------------------------
def test_replay_speed_and_until_are_validated(tmp_path):
    path = tmp_path / "seed.vtj"
    run_cli("record", "-n", "-o", str(path), str(SEED / "guest.log"))
    for speed in ("1e-300", "0", "-1", "nan", "inf", "fast"):
        one_line_error(run_cli("replay", "--speed", speed, "--until", "1s", str(path)), f"--speed: {speed}")
    for until in ("nans", "-5s", "infs", "0"):
        one_line_error(run_cli("replay", "--fast", f"--until={until}", str(path)), f"--until {until}")


def test_one_rule_for_signs_and_ranges():
    from venustui.numbers import parse_integer

    assert parse_integer("-5") == parse_integer("-0x5") == (1 << 64) - 5
    assert parse_integer("0xffffffffffffffff") == parse_integer("18446744073709551615") == (1 << 64) - 1
    assert parse_integer("-0x8000000000000000") == 1 << 63
    for bad in ("-99999999999999999999999999", "99999999999999999999999999", "-0x8000000000000001",
                "0x10000000000000000", "--5", "0x", "5e3", ""):
        with pytest.raises(UserError, match="out of range|not a"):
            parse_integer(bad)
    assert parse_integer("-1", bits=32, what="VkResult") == 0xFFFFFFFF
    with pytest.raises(UserError, match="32-bit VkResult"):
        parse_integer("0x100000000", bits=32, what="VkResult")
    out = run_cli("decode", "--", "-99999999999999999999999999")
    one_line_error(out, "out of range for a 64-bit handle value")
    assert run_cli("decode", "--json", "--", "-5").stdout == run_cli("decode", "--json", "--", "-0x5").stdout


def test_an_empty_target_argv_names_its_placeholders_once():
    with pytest.raises(UserError) as caught:
        config_mod.parse({"targets": {"t": {"argv": []}}})
    assert "{VN_PERF}" in str(caught.value) and "{{" not in str(caught.value)


# escape sequences -------------------------------------------------------------------------------------------
def test_escape_sequences_are_shown_not_removed_or_sent(tmp_path):
    log = tmp_path / "esc.log"
    log.write_bytes(b"title \x1b]0;pwned\x07 after\n\x1b[31mred\x1b[0m\n")
    out = run_cli("watch", "--no-follow", str(log))
    assert b"\x1b" not in out.stdout and b"\x07" not in out.stdout
    assert b"title \\x1b]0;pwned\\x07 after" in out.stdout and b"\\x1b[31mred\\x1b[0m" in out.stdout
