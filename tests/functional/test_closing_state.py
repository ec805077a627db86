"""A journal's closing state: written when the session folded everything it recorded, taken by a summary or a
report only when it fits the journal and this code, never trusted to build anything but a model."""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import replace

import pytest

from venustui import checkpoint
from venustui.config import Config, parse
from venustui.follower import Follower
from venustui.journal import Journal, Recorder
from venustui.session import Session, replay_to_end
from venustui.sources import parse_spec

from ..conftest import DATA, SEED, run_cli
from .test_journal import findings, record

SEED_LOGS = [SEED / "guest.log", SEED / "host.log"]


def to_end(path, config=None, rederive=False):
    session = Session([], config, follow=False)
    return session, replay_to_end(Journal.open(path), session, rederive=rederive)


@pytest.mark.parametrize("logs", [SEED_LOGS, sorted((DATA / "qemu-lavapipe").glob("*.log"))], ids=["seed", "qemu"])
def test_the_closing_state_is_the_live_state_and_folding_again_agrees(logs, tmp_path):
    path = tmp_path / "s.vtj"
    live = record(logs, path)
    stored, end = to_end(path)
    assert end.stored and not end.differs
    assert stored.model.snapshot() == live.model.snapshot()
    assert findings(stored.model) == findings(live.model)
    folded, end = to_end(path, rederive=True)
    assert not end.stored and not end.differs and "gave the state the recording session reached" in end.note
    assert folded.model.snapshot() == live.model.snapshot()
    assert "checkpoint" not in Journal.open(path).status  # a status frame of its own, not a status


def test_a_paused_recording_keeps_no_closing_state(tmp_path):
    """Lines folded while recording was paused are not in the journal: the live state would not describe it."""
    path = tmp_path / "paused.vtj"
    recorder = Recorder(path)
    session = Session([parse_spec(str(p)) for p in SEED_LOGS], follow=False, recorder=recorder)
    recorder.paused = True
    recorder.paused = False
    session.start()
    session.run_to_end()
    session.stop()
    assert Journal.open(path).closing_state() is None
    _, end = to_end(path)
    assert not end.stored


def test_a_recording_stopped_by_its_size_cap_keeps_no_closing_state(tmp_path):
    path = tmp_path / "capped.vtj"
    recorder = Recorder(path, max_bytes=300)
    session = Session([parse_spec(str(p)) for p in SEED_LOGS], follow=False, recorder=recorder)
    session.start()
    session.run_to_end()
    session.stop()
    journal = Journal.open(path)
    assert "stopped" in journal.status and journal.closing_state() is None


def test_other_rules_fold_again(tmp_path):
    path = tmp_path / "s.vtj"
    record(SEED_LOGS, path)
    rules = parse({"rules": [{"name": "fence_number", "pattern": r"fence (?P<n>\d+)", "side": "guest"}]})
    session, end = to_end(path, rules)
    assert not end.stored and not end.note
    assert session.model.counts  # folded, with the user's rule in the parser
    _, end = to_end(path, replace(Config(), mesa_version="24.1"))
    assert not end.stored


@pytest.mark.parametrize("damage", ["cut", "flipped"])
def test_a_damaged_journal_folds_again_and_says_what_was_lost(damage, tmp_path):
    path = tmp_path / "s.vtj"
    live = record(SEED_LOGS, path)
    data = bytearray(path.read_bytes())
    if damage == "cut":  # copied while being written: the closing frames are not there yet
        data = data[:-400]
    else:  # a byte of a recorded line
        at = data.index(b"Fence created")
        data[at] ^= 0x20
    path.write_bytes(bytes(data))
    session, end = to_end(path)
    assert not end.stored
    journal = Journal.open(path)
    if damage == "flipped":
        assert journal.closing_state() is not None and not journal.intact()
        replay_to_end(journal, Session([], follow=False))
        assert journal.unreadable and journal.problems
    else:  # only the closing frames were lost: every line is folded again
        assert journal.closing_state() is None
        assert session.model.snapshot() == live.model.snapshot()


class RunsCode:
    """What a hostile journal could store instead of a model: unpickling it would run a command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def signed_state(facts_of, body: bytes) -> bytes:
    """A state with the facts of a real one and another body, signed with this user's key (as only this user's
    venustui could): what the unpickler's own wall must stop."""
    facts_line = checkpoint.encode(*facts_of).split(b"\n")[1]
    signed = facts_line + b"\n" + body
    return checkpoint._mac(checkpoint._key(create=True), signed) + b"\n" + signed


def test_a_state_naming_other_classes_is_refused_without_running_anything(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    path = tmp_path / "hostile.vtj"

    def hostile(self, last_seq):
        return signed_state((self.model, self.config, last_seq), pickle.dumps(RunsCode(marker)))

    monkeypatch.setattr(Session, "closing_state", hostile)
    live = record(SEED_LOGS, path)
    monkeypatch.undo()
    session, end = to_end(path)
    assert not marker.exists()
    assert not end.stored and "not used" in end.note and "system" in end.note
    assert session.model.snapshot() == live.model.snapshot()  # folded from the recorded lines instead
    result = run_cli("replay", "--summary", str(path))
    assert result.returncode == 0 and not marker.exists()
    assert b"closing state was not used" in result.stderr and b"Traceback" not in result.stderr


def test_another_users_journal_is_folded(tmp_path, monkeypatch):
    """A journal from a bug report is signed with its recorder's key, not this user's: its state is never loaded."""
    path = tmp_path / "theirs.vtj"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "their-state"))
    live = record(SEED_LOGS, path)
    assert Journal.open(path).closing_state() is not None
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "my-state"))
    session, end = to_end(path)
    assert not end.stored and session.model.snapshot() == live.model.snapshot()
    _, end = to_end(path, rederive=True)
    assert "not written by this user's venustui" in end.note and "nothing to compare" in end.note
    changed = bytearray(path.read_bytes())  # the recorder's own key, and a byte of the state changed
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "their-state"))
    start, end_at = Journal.open(path)._checkpoint
    changed[end_at - 10] ^= 1
    path.write_bytes(bytes(changed))
    assert not to_end(path)[1].stored


def test_a_key_others_can_read_signs_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    record(SEED_LOGS, tmp_path / "first.vtj")
    key = tmp_path / "state" / "venustui" / checkpoint.KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)
    record(SEED_LOGS, tmp_path / "second.vtj")
    assert Journal.open(tmp_path / "second.vtj").closing_state() is None
    assert not to_end(tmp_path / "first.vtj")[1].stored


def test_events_left_unfolded_at_the_stop_leave_no_closing_state(tmp_path):
    path = tmp_path / "unfolded.vtj"
    recorder = Recorder(path)
    session = Session([parse_spec(str(p)) for p in SEED_LOGS], follow=False, recorder=recorder)
    session.start()
    deadline = time.monotonic() + 30
    while session.hub.backlog == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    session.stop(deadline=0)  # what was read is recorded, not folded (a TUI's quit, a second Ctrl-C)
    assert session.folded_through < Journal.open(path).last_seq()
    assert Journal.open(path).closing_state() is None


def test_a_fold_in_pieces_leaves_no_closing_state(tmp_path):
    """The TUI folds a long chunk in pieces, a replay whole: what the handle table forgets may differ."""
    path = tmp_path / "pieces.vtj"
    log = tmp_path / "long.log"
    log.write_bytes((SEED / "host.log").read_bytes() * 2000)  # one read of more than FOLD_PIECE bytes
    recorder = Recorder(path)
    session = Session([parse_spec(str(log))], follow=False, recorder=recorder)
    follower = Follower(session)
    follower.start()
    deadline = time.monotonic() + 30
    while session.folded_through < 2000 * 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    follower.stop()
    assert not session.folds_whole_chunks
    assert Journal.open(path).closing_state() is None


def test_rederive_says_when_the_stored_state_disagrees(tmp_path, monkeypatch):
    path = tmp_path / "tampered.vtj"

    def tampered(self, last_seq):
        self.model.lines["an extra source"] += 1
        return checkpoint.encode(self.model, self.config, last_seq)

    monkeypatch.setattr(Session, "closing_state", tampered)
    record(SEED_LOGS, path)
    monkeypatch.undo()
    _, end = to_end(path, rederive=True)
    assert end.differs == ("lines",)
    result = run_cli("replay", "--summary", "--rederive", str(path))
    assert result.returncode == 1
    assert b"another state than the recording session reached, in: lines" in result.stderr
    result = run_cli("replay", "--summary", str(path))  # without the check, the stored state is what it shows
    assert result.returncode == 0 and b"as recorded (--rederive folds every line again)" in result.stderr


def test_rederive_goes_with_a_summary(tmp_path):
    path = tmp_path / "s.vtj"
    record(SEED_LOGS, path)
    result = run_cli("replay", "--fast", "--rederive", str(path))
    assert result.returncode == 2
    assert result.stderr.decode().strip().count("\n") == 0 and "--summary" in result.stderr.decode()
    report = run_cli("report", "--rederive", str(path))
    assert report.returncode == 0 and b"matches" not in report.stderr
    assert b"gave the state the recording session reached" in report.stderr


def test_a_state_that_cannot_be_made_is_said_in_the_journal_and_loses_nothing(tmp_path, monkeypatch):
    path = tmp_path / "s.vtj"

    def broken(self, last_seq):
        raise RecursionError("maximum recursion depth exceeded while pickling an object")

    monkeypatch.setattr(Session, "closing_state", broken)
    live = record(SEED_LOGS, path)
    monkeypatch.undo()
    journal = Journal.open(path)
    assert journal.status["no closing state"].startswith("RecursionError: ") and "closed" in journal.status
    session, end = to_end(path)
    assert not end.stored and session.model.snapshot() == live.model.snapshot()
