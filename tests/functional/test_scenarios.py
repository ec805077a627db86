"""Fault scenarios, each made real in the lab (a QEMU guest, or vtest) and diagnosed: the top finding each must
give, from evidence a user would have; and the same findings from a recorded journal with the name stripped."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from venustui.diagnose import CONFIDENCE_ORDER, diagnose
from venustui.journal import Action, Journal, Recorder
from venustui.lab import Lab
from venustui.lab_scenarios import SCENARIOS, play, scenario
from venustui.probe.runner import Runner
from venustui.session import Session

from ..conftest import run_cli

pytestmark = pytest.mark.lab

# What each scenario must end in: the top finding's rule, and words its claim must hold.
EXPECTED = {
    "hostmem-small": ("ring-shmem", ["VK_ERROR_OUT_OF_HOST_MEMORY", "host memory window of 64 KiB"]),
    "no-venus": ("no-venus-capset", ["not Venus (id 4)"]),
    "validate": ("validation-wrapped", ["validation layer's object id"]),
    "render-server-stall": ("render-server-stalled", ["alive but not answering", "look the same"]),
    "render-server-killed": ("render-server-gone", ["gone (killed or crashed)", "look the same"]),
    "vtest-export": ("feedback-ab", ["hangs in vkCreateFence with the defaults", "passes with no_fence_feedback"]),
    "mesa-26.2": ("fence-feedback-gone", ["no fence feedback", "does not exist there"]),
}


def played(root: Path, pair, name: str, journal: Path | None = None, deadline: float = 4):
    """Run a scenario in the lab. deadline: how long a probe run may take before it counts as hung (short, as
    the stall scenarios wait it out; a run that should pass gets a generous one: under load a probe has taken
    more than 4 s)."""
    chosen = scenario(name)
    runtime_name = uuid.uuid4().hex[:8]
    lab = chosen.lab(Lab(runtime_name, root=root, runtime=Path(f"/tmp/venustui-s-{runtime_name}"), pair=pair))
    recorder = Recorder(journal) if journal is not None else None
    session = Session([], follow=False, recorder=recorder)
    try:
        lab.start(session.hub, vkr_debug=chosen.vkr_debug)
        session.act("lab", **lab.identity())
        session.act("scenario", name=name)  # as the TUI records it: findings must not need it
        records = play(chosen, lab, Runner(session.hub, deadline=deadline, grace=0.5, **lab.runner_options()))
    finally:
        lab.stop()
    for _ in range(10):
        session.pump(0.1)
    session.stop()
    return session.model, records


def top(findings):
    """The top finding above info; info only when nothing else was found."""
    return findings[0] if findings else None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_scenario_ends_in_its_finding(lab_pairs, name):
    root, pairs = lab_pairs
    model, records = played(root, pairs["trixie"], name)
    found = diagnose(model)
    rule, words = EXPECTED[name]
    first = top(found)
    assert first is not None and first.rule == rule, [(f.rule, f.claim[:80]) for f in found]
    assert all(w in first.claim for w in words), first.claim
    if name != "validate":  # (there the word is the host setting's own name, VKR_DEBUG=validate)
        evidence = " ".join(e.text for e in first.evidence) + first.claim + first.next_step
        assert name not in evidence  # rests on the logs and runs, never on the scenario's name
    if name == "render-server-stall" or name == "render-server-killed":
        assert "ps -o stat" in first.next_step or "restarted" in first.next_step


def test_the_default_scenario_is_the_control(lab_pairs):
    root, pairs = lab_pairs
    model, records = played(root, pairs["trixie"], "default", deadline=60)
    assert records and all(r.outcome.passed for r in records), [r.outcome for r in records]
    assert not [f for f in diagnose(model) if f.severity in ("critical", "error")]


def test_a_journal_without_the_scenario_name_gives_the_same_findings(lab_pairs, tmp_path):
    root, pairs = lab_pairs
    path = tmp_path / "hostmem-small.vtj"
    live, _ = played(root, pairs["trixie"], "hostmem-small", journal=path)
    journal = Journal.open(path)
    session = Session([], follow=False)
    kept = 0
    for event in journal.events():
        if isinstance(event, Action) and "hostmem-small" in json.dumps(event.data):
            continue  # the scenario's own record goes; everything the logs and runs said stays
        session.fold(event)
        kept += 1
    journal.close()
    assert kept and not any("hostmem-small" in json.dumps(data) for _, _, data in session.model.actions)
    stripped = diagnose(session.model)
    assert [(f.rule, f.claim) for f in stripped] == [(f.rule, f.claim) for f in diagnose(live)]
    assert stripped[0].rule == "ring-shmem"


def test_the_scenarios_are_listed_and_known(tmp_path):
    out = run_cli("lab", "scenarios")
    assert out.returncode == 0
    assert all(s.name.encode() in out.stdout for s in SCENARIOS)
    bad = run_cli("lab", "up", "--scenario", "no-such")
    assert bad.returncode == 2 and b"no lab scenario 'no-such'" in bad.stderr and b"Traceback" not in bad.stderr
    assert set(EXPECTED) | {"default"} == {s.name for s in SCENARIOS}
    assert CONFIDENCE_ORDER  # ranking is by confidence first: the expected tops are the surest findings
