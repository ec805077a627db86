"""Recording and replay: the same state live and replayed, raw bytes kept, damaged journals read as far as they go."""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venustui.diagnose import diagnose
from venustui.events import Chunk, Notice
from venustui.flags import FlagSet
from venustui.journal import CHUNK, FILE_MAGIC, FORMAT_VERSION, FRAME, FRAME_MAGIC, Journal, Recorder
from venustui.probe.runner import Runner, Target
from venustui.session import Session, replay
from venustui.sources import parse_spec

from ..conftest import DATA, LAB, ROOT, SEED, SYNTHETIC, run_cli

FIXTURE_SETS = {
    "seed": [SEED / f for f in ("guest.log", "host.log", "guest-no_fence_feedback.log", "host-no_fence_feedback.log")],
    "lab": [LAB / f for f in ("guest-fence-default.log", "guest-fence-no_fence_feedback.log",
                              "guest-map-no_fence_feedback.log", "host.log")],
    "synthetic": sorted(SYNTHETIC.glob("*.log")),
    "real-threads": sorted((DATA / "real-threads").glob("*.log")),
    "real-threads-extra": sorted((DATA / "real-threads-extra").glob("*.log")),
    "qemu-lavapipe": sorted((DATA / "qemu-lavapipe").glob("*.log")),
}


def record(paths, journal_path) -> Session:
    recorder = Recorder(journal_path, sources=[parse_spec(str(p)) for p in paths])
    session = Session([parse_spec(str(p)) for p in paths], follow=False, recorder=recorder)
    session.start()
    session.run_to_end()
    session.stop()
    return session


def replayed(journal_path) -> Session:
    journal = Journal.open(journal_path)
    session = Session([], follow=False)
    replay(journal, session)
    return session


def findings(model):
    return [f.as_dict() for f in diagnose(model)]


@pytest.mark.parametrize("name", sorted(FIXTURE_SETS))
def test_replay_reaches_the_live_state(name, tmp_path):
    path = tmp_path / f"{name}.vtj"
    live = record(FIXTURE_SETS[name], path)
    again = replayed(path)
    assert again.model.snapshot() == live.model.snapshot()
    assert findings(again.model) == findings(live.model)
    assert findings(live.model), "every fixture set yields findings"


def test_replay_reaches_the_live_state_when_the_model_forgets(tmp_path, monkeypatch):
    """A trace of fresh pointers fills the handle table many times over: what the model forgets depends
    on the chunks it folds, so a replay must fold the chunks the live session folded, also where the
    journal stored a long chunk in several frames."""
    import venustui.journal as journal_module
    import venustui.model.handle_table as model_module

    sys.path.insert(0, str(ROOT / "bench"))
    import genlog

    monkeypatch.setattr(model_module, "HANDLE_LIMIT", 500)
    monkeypatch.setattr(journal_module, "PIECE_BYTES", 300 << 10)  # the file source's 1 MiB chunks in 4 frames
    log = tmp_path / "trace.log"
    log.write_text("".join(line + "\n" for line in genlog.lines(40_000, seed=3, mix="trace")))
    path = tmp_path / "trace.vtj"
    live = record([log], path)
    assert live.model.handles_evicted > 1000
    assert len(Journal.open(path)._frames) > 2 * sum(1 for e in Journal.open(path).events())
    for speed in (None, lambda: None):  # --fast, and paced as the TUI replays (here without waits)
        session = Session([], follow=False)
        replay(Journal.open(path), session, speed=speed)
        assert session.model.snapshot() == live.model.snapshot()


def test_runner_events_and_actions_replay_too(tmp_path):
    path = tmp_path / "runs.vtj"
    recorder = Recorder(path)
    session = Session([], follow=False, recorder=recorder)
    runner = Runner(session.hub, deadline=1.5, grace=0.3)
    target = Target("test_fence", (sys.executable, str(DATA / "targets" / "fence_steps.py"), uuid.uuid4().hex))
    runner.run(target)
    session.act("toggle", variable="VN_PERF", name="no_fence_feedback")
    runner.run(target, FlagSet(perf=("no_fence_feedback",)))
    for _ in range(5):
        session.pump(0.2)
    session.stop()
    again = replayed(path)
    assert again.model.snapshot() == session.model.snapshot()
    assert again.model.actions[0][1] == "toggle" and len(again.model.targets) == 2


def test_raw_bytes_survive_exactly(tmp_path):
    payload = b"ok\r\nbad \xff\xfe\n\x00nul\n\x1b[31m[bold]x[/]\x1b[0m\n" + b"M" * 300_000 + b"\nlast"
    log = tmp_path / "hostile.log"
    log.write_bytes(payload)
    path = tmp_path / "hostile.vtj"
    record([log], path)
    out = run_cli("export", str(path), "--jsonl")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    data = b"".join(base64.b64decode(r["data_base64"]) for r in rows if r["type"] == "chunk")
    assert data == payload
    assert rows[0]["type"] == "header" and rows[0]["format_version"] == str(FORMAT_VERSION)


def test_copy_taken_while_recording(tmp_path):
    path = tmp_path / "live.vtj"
    log = tmp_path / "growing.log"
    log.write_bytes(b"".join(p.read_bytes() for p in FIXTURE_SETS["lab"]))
    recorder = Recorder(path)
    session = Session([parse_spec(str(log))], follow=True, recorder=recorder, poll_interval=0.05)
    session.start()
    try:
        for _ in range(20):
            session.pump(0.05)
        copy = tmp_path / "copy.vtj"
        shutil.copyfile(path, copy)  # the main file only, as a user would copy it
    finally:
        session.stop()
    again = replayed(copy)
    assert sum(again.model.lines.values()) == sum(session.model.lines.values())


def test_cut_short_and_corrupted_journals(tmp_path):
    big = tmp_path / "big.log"
    big.write_bytes(b"".join(f"[VKR] vkQueueSubmit: fence=0x{n:x}0000 ret=0\n".encode() for n in range(1, 60_000)))
    path = tmp_path / "big.vtj"
    live = record([big], path)
    total = sum(live.model.lines.values())
    size = path.stat().st_size

    cut = tmp_path / "cut.vtj"
    cut.write_bytes(path.read_bytes()[: size // 2])
    out = run_cli("replay", "--summary", str(cut))
    assert out.returncode == 0, out.stderr
    partial = replayed(cut)
    assert 0 < sum(partial.model.lines.values()) < total

    damaged = tmp_path / "damaged.vtj"
    data = bytearray(path.read_bytes())
    for offset in range(size // 3, size // 3 + 40_000, 997):
        data[offset:offset + 64] = os.urandom(64)
    damaged.write_bytes(bytes(data))
    journal = Journal.open(damaged)
    session = Session([], follow=False)
    replay(journal, session)
    assert journal.unreadable > 0 and journal.problems
    assert 0 < sum(session.model.lines.values()) < total
    out = run_cli("replay", "--summary", str(damaged))
    err = out.stderr.decode()
    assert out.returncode == 0 and "could not be read and were skipped" in err and "Traceback" not in err


def test_damage_costs_exactly_the_frames_it_touches(tmp_path):
    """A frame whose bytes fail their checksum, and one whose head is damaged (read on from the next intact
    head), lose their own lines and nothing else: the count of what could not be read is exact."""
    log = tmp_path / "three.log"  # three chunks: the file source reads a megabyte at a time
    log.write_bytes(b"".join(f"[VKR] vkQueueSubmit: fence=0x{n:x}0000 ret=0\n".encode() for n in range(1, 60_000)))
    path = tmp_path / "three.vtj"
    total = sum(record([log], path).model.lines.values())
    data = path.read_bytes()
    frames = [m for m in range(len(data)) if data.startswith(FRAME_MAGIC, m)]
    chunks = [m for m in frames if data[m + 4] == CHUNK]
    assert len(chunks) >= 3
    for name, where in (("payload", len(data) // 2), ("head", chunks[1] + 10)):
        damaged = tmp_path / f"{name}.vtj"
        changed = bytearray(data)
        changed[where] ^= 0xFF
        damaged.write_bytes(bytes(changed))
        journal = Journal.open(damaged)
        session = Session([], follow=False)
        replay(journal, session)
        read = sum(session.model.lines.values())
        assert 0 < read < total and journal.unreadable == total - read, (name, journal.problems)


def _chunk_or_notice(item, seq: int):
    name, body = item
    if isinstance(body, list):
        return Chunk(name, "file", 0, 7 * seq, b"".join(body), False, 1e9 + seq, seq / 3, seq, len(body))
    return Notice(name, "file", "opened", body, 1e9 + seq, seq / 3, seq, {"size": seq})


LINES = st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"") + b"\n"), min_size=1, max_size=12)


@settings(deadline=None, max_examples=80)
@given(items=st.lists(st.tuples(st.text(max_size=8), st.one_of(LINES, st.text(max_size=20))), min_size=1,
                      max_size=10),
       flip=st.floats(0, 1, exclude_max=True), bits=st.integers(1, 255))
def test_any_journal_reads_back_exactly_and_a_damaged_one_counts_what_it_lost(items, flip, bits):
    """Made-up chunks (any bytes) and notices (any text, names included) come back exactly; with one byte
    changed anywhere after the header, nothing changed is replayed and what is missing is counted exactly."""
    events, seq = [], 1
    for item in items:
        events.append(_chunk_or_notice(item, seq))
        seq += len(item[1]) if isinstance(item[1], list) else 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "made.vtj"
        recorder = Recorder(path)
        recorder.record(events)
        recorder.close()
        journal = Journal.open(path)
        assert list(journal.events()) == events and journal.unreadable == 0 and not journal.problems
        data = bytearray(path.read_bytes())
        second_header = data.index(FRAME_MAGIC, len(FILE_MAGIC) + 1)
        header_end = data.index(FRAME_MAGIC, second_header + 1)  # where the first recorded frame starts
        closing = FRAME.size + len("closed") + len(journal.status["closed"])  # a lost mark costs no item
        journal.close()
        at = header_end + int(flip * (len(data) - closing - header_end))
        data[at] ^= bits
        path.write_bytes(bytes(data))
        damaged = Journal.open(path)
        read = list(damaged.events())
        assert all(e in events for e in read)
        items_read = sum(e.count if isinstance(e, Chunk) else 1 for e in read)
        assert items_read + damaged.unreadable == seq - 1 and damaged.unreadable > 0 and damaged.problems
        damaged.close()


def test_bad_journal_paths(tmp_path):
    not_journal = tmp_path / "notes.txt"
    not_journal.write_text("hello")
    old = tmp_path / "old.vtj"  # the format before 3 was an SQLite file
    sqlite3.connect(old).execute("CREATE TABLE header (key TEXT PRIMARY KEY, value TEXT NOT NULL)").connection.close()
    for args, message in ((["replay", str(not_journal)], "not a venustui journal"),
                          (["replay", str(old)], "older SQLite format"),
                          (["replay", str(tmp_path / "missing.vtj")], "no such journal"),
                          (["report", str(tmp_path)], "is a directory"),
                          (["record", "-o", "/etc/passwd/x.vtj", str(SEED / "guest.log"), "-n"], "cannot record")):
        out = run_cli(*args)
        err = out.stderr.decode()
        assert out.returncode == 2 and message in err and err.count("\n") == 1, (args, err)
    path = tmp_path / "ok.vtj"
    record([SEED / "guest.log"], path)
    out = run_cli("report", str(path), "-o", "/etc/passwd/report.md")
    assert out.returncode == 2 and b"cannot write /etc/passwd/report.md" in out.stderr


def test_disk_full_stops_the_recording_not_the_session(tmp_path):
    """A file-size limit (RLIMIT_FSIZE) in a subprocess stands in for a full disk."""
    log = tmp_path / "big.log"
    log.write_bytes(b"".join(f"[mvk-trace] vkCmdDraw(commandBuffer=0x{n:x}000)\n".encode() for n in range(300_000)))
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))\n"
            "from venustui.cli import main\n"
            f"sys.exit(main(['record', '-n', '-o', {str(tmp_path / 'full.vtj')!r}, {str(log)!r}]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=120)
    err = out.stderr.decode()
    assert out.returncode == 1, (out.stdout, err)
    assert "recording stopped early" in err and "Traceback" not in err
    assert b"read 300,000 lines, recorded " in out.stdout  # the session read everything
    journal = Journal.open(tmp_path / "full.vtj")
    recorded = int(out.stdout.split(b"recorded ")[1].split()[0].replace(b",", b""))
    lines = sum(getattr(e, "count", 0) for e in journal.events())
    assert 0 < lines == recorded < 300_000 and not journal.problems  # cut back to its last whole frame
    assert journal.status["stopped"] == f"disk full or file size limit reached at seq {journal.last_seq() + 1}"


def test_report_names_the_mechanisms(tmp_path):
    seed = tmp_path / "seed.vtj"
    record(FIXTURE_SETS["seed"], seed)
    text = run_cli("report", str(seed)).stdout.decode()
    assert "fence feedback path broken, polling path works" in text
    lab = tmp_path / "lab.vtj"
    record(FIXTURE_SETS["lab"], lab)
    out = run_cli("report", str(lab), "-o", str(tmp_path / "lab.html"))
    assert out.returncode == 0
    page = (tmp_path / "lab.html").read_text()
    assert "export_blob" in page and "cannot map host-visible memory" in page and "<h2>Findings</h2>" in page
    assert "<cdata" not in page and "&lt;cdata" in page  # log text escaped


def test_replay_until_and_summary(tmp_path):
    path = tmp_path / "seed.vtj"
    record(FIXTURE_SETS["seed"], path)
    out = run_cli("replay", "--fast", "--until", "8", str(path))
    text = out.stdout.decode()
    assert "step 6 Submit" in text and "step 8 Wait" not in text
    bad = run_cli("replay", "--until", "soon", str(path))
    assert bad.returncode == 2 and b"--until soon" in bad.stderr
    piped = run_cli("replay", str(path))
    assert piped.returncode == 2 and b"needs a terminal" in piped.stderr and b"replay --fast" in piped.stderr


@pytest.mark.parametrize("mode", ["whole", "until", "helper-stops"])
def test_replay_on_two_processes_matches_one(mode, tmp_path):
    """The batched replay's helper process (reads, lays out, parses) changes nothing in the result."""
    sys.path.insert(0, str(ROOT / "bench"))
    import genlog

    log = tmp_path / "trace.log"
    log.write_text("".join(line + "\n" for line in genlog.lines(30_000, seed=5, mix="trace")))
    path = tmp_path / "trace.vtj"
    record([f"trace=cmd:cat {shlex.quote(str(log))}", *FIXTURE_SETS["seed"]], path)  # a pipe: 64 KiB chunks
    args = ["12345"] if mode == "until" else []
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "functional" / "two_process_replay.py"), str(path),
                          mode, *args], capture_output=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr.decode()
    result = json.loads(out.stdout)
    assert result["helper_started"] and result["same_state"]
    assert result["counts"][0] == result["counts"][1] > 0
    assert result["unreadable"] == [0, 0]
