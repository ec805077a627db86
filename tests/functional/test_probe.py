"""The probe on the real loader with lavapipe, the runner's classification, and triage."""

from __future__ import annotations

import ctypes.util
import glob
import json
import os
import sys
import uuid

import pytest

from venustui import events as ev
from venustui.flags import EnvDelta, FlagSet, check_names, guest_env, took_effect
from venustui.probe.runner import CRASHED, FAILED, HUNG, NOT_STARTED, PASSED, PROBE, Runner, Target
from venustui.sources.hub import Hub
from venustui.triage import triage

from ..conftest import DATA, run_cli, wait_for
from ..conftest import pids_with as processes_with

TARGETS = DATA / "targets"


def vulkan_available() -> bool:
    return bool(ctypes.util.find_library("vulkan")) and bool(glob.glob("/usr/share/vulkan/icd.d/lvp_icd*.json"))


@pytest.fixture
def lavapipe():
    if not vulkan_available():
        if os.environ.get("CI") == "true":
            pytest.fail("the Vulkan loader and lavapipe must be installed in CI (make test installs them)")
        pytest.skip("no Vulkan loader or lavapipe here")
    files = sorted(glob.glob("/usr/share/vulkan/icd.d/lvp_icd*.json"))
    return files[0]


@pytest.mark.vulkan
def test_probe_both_phases_pass_on_lavapipe(lavapipe):
    hub = Hub()
    runner = Runner(hub, deadline=20, driver_files=lavapipe)
    fence = runner.run(PROBE, phase="fence")
    mapped = runner.run(PROBE, phase="map")
    assert fence.outcome.status == PASSED, fence.outcome.text()
    assert mapped.outcome.status == PASSED, mapped.outcome.text()
    steps = {s["step"]: s for s in fence.steps}
    assert list(steps) == ["instance", "physdev", "device", "queue", "fence", "submit", "status", "wait"]
    assert steps["physdev"]["driver_id"] == "VK_DRIVER_ID_MESA_LLVMPIPE"
    assert steps["queue"]["via"] == "vkGetDeviceQueue2"
    assert int(steps["fence"]["handle"], 16) > 0x10000
    assert all(s["ms"] >= 0 for s in fence.steps)
    rate = next(m for m in fence.metrics if m["name"] == "poll_rate")
    assert rate["polls_per_s"] > 0 and rate["bare_polls_per_s"] > 0
    poll = next(s for s in mapped.steps if s["step"] == "poll")
    assert poll["fence_ms"] is not None and poll["slot_ms"] is not None and poll["disagreement"] == ""
    assert fence.env.set["VK_DRIVER_FILES"] == lavapipe
    # every run is in the event stream: start, the probe's own events, end
    kinds = [e.kind for batch in iter(lambda: hub.take(0.1), []) for e in batch if isinstance(e, ev.RunEvent)]
    assert kinds.count(ev.RUN_START) == 2 and kinds.count(ev.RUN_END) == 2 and ev.RUN_PROBE in kinds


@pytest.mark.vulkan
def test_probe_watch_streams_samples(lavapipe):
    out = run_cli("probe", "--phase", "map", "--json", env={**os.environ, "VK_DRIVER_FILES": lavapipe})
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout.splitlines()[0])
    assert record["outcome"]["status"] == PASSED
    samples = []
    runner = Runner(deadline=20, driver_files=lavapipe)
    target = Target("probe", PROBE.argv + ("--rounds", "3"), probe=True, phases=PROBE.phases)
    runner.run(target, phase="map", watch=0.05, on_event=lambda e: samples.append(e) if e["ev"] == "sample" else None)
    assert len(samples) == 3 and all(s["slot_ms"] is not None for s in samples)


@pytest.mark.vulkan
def test_probe_without_loader_or_icd_is_one_line(lavapipe, tmp_path):
    out = run_cli("probe", "--phase", "fence", env={**os.environ, "VENUSTUI_VULKAN_LOADER": "/nonexistent/libvulkan.so.1"})
    err = out.stderr.decode()
    assert out.returncode == 3 and "no Vulkan loader at /nonexistent" in err and "Traceback" not in err
    missing = tmp_path / "missing_icd.json"
    out = run_cli("probe", "--phase", "fence", env={**os.environ, "VK_DRIVER_FILES": str(missing)})
    err = out.stderr.decode()
    assert out.returncode == 3 and str(missing) in err and err.count("\n") == 1
    out = run_cli("probe", "--phase", "nonsense")
    assert out.returncode == 2 and b"unknown phase" in out.stderr


def test_probe_program_rejects_unknown_options():
    import subprocess

    out = subprocess.run([sys.executable, "-m", "venustui.probe.program", "--bogus"], capture_output=True)
    assert out.returncode == 2 and out.stderr.decode().startswith("venustui probe: unrecognized arguments")


def test_target_that_segfaults_is_crashed():
    code = "print('1. Instance OK', flush=True); import ctypes; ctypes.string_at(0)"
    record = Runner(deadline=10).run(Target("segv", (sys.executable, "-c", code)))
    assert record.outcome.status == CRASHED and "SIGSEGV" in record.outcome.text()
    assert record.outcome.step == "physdev"


def test_garbage_or_silence_is_not_a_pass():
    garbage = Runner(deadline=10).run(Target("garbage", (sys.executable, "-c",
        "import os; os.write(1, bytes(range(256)) * 40)")))
    assert garbage.outcome.status == FAILED and garbage.outcome.step == "instance"
    silent = Runner(deadline=10).run(Target("silent", (sys.executable, "-c", "pass")))
    assert silent.outcome.status == FAILED
    probe_garbage = Runner(deadline=2).run(Target("fake-probe", (sys.executable, "-c",
        "import sys; sys.stdout.write('not json\\n'); sys.exit(1)"), probe=True))
    assert probe_garbage.outcome.status == CRASHED


def test_hang_ignoring_sigint_is_classified_and_its_group_killed():
    marker = f"venustui-hang-{uuid.uuid4().hex}"
    target = Target("test_fence", (sys.executable, str(TARGETS / "fence_steps.py"), marker))
    record = Runner(deadline=1.5, grace=0.5).run(target)
    assert record.outcome.status == HUNG and record.outcome.step == "fence"
    assert record.outcome.text() == "hung at fence"
    assert record.ended == "killed"
    wait_for(lambda: not processes_with(marker), timeout=10)


def test_children_that_outlive_the_target_are_ended():
    marker = f"venustui-outlive-{uuid.uuid4().hex}"
    record = Runner(deadline=5).run(Target("outlive", (sys.executable, str(TARGETS / "outlive.py"), marker)))
    assert record.returncode == 0
    wait_for(lambda: not processes_with(marker), timeout=10)


def test_triage_finds_exactly_the_flag_and_leaves_nothing_running():
    marker = f"venustui-triage-{uuid.uuid4().hex}"
    target = Target("test_fence", (sys.executable, str(TARGETS / "fence_steps.py"), marker))
    result = triage(Runner(deadline=1.5, grace=0.3), target, names=["no_fence_feedback", "no_event_feedback",
                                                                    "no_semaphore_feedback"])
    assert result.smallest == ("no_fence_feedback",)
    assert result.runs[0].outcome.status == HUNG
    assert result.finding() == "fence phase hangs in vkCreateFence with the defaults; passes with no_fence_feedback"
    assert len(result.runs) == 2 and result.runs[1].env.set["VN_PERF"] == "no_fence_feedback"
    wait_for(lambda: not processes_with(marker), timeout=10)


PAIR = """
import os
flags = os.environ.get("VN_PERF", "").split(",")
for line in ("1. Instance OK", "2. PhysDev OK", "3. Device OK", "4. Queue OK", "5. Fence created",
             "6. Submit: 0", "7. Status: 1"):
    print(line)
print("8. Wait: " + ("0" if "no_fence_feedback" in flags and "no_query_feedback" in flags else "2"))
"""


def test_triage_shrinks_a_combination():
    target = Target("pair", (sys.executable, "-c", PAIR))
    result = triage(Runner(deadline=10), target, names=["no_fence_feedback", "no_event_feedback",
                                                        "no_query_feedback"])
    assert set(result.smallest) == {"no_fence_feedback", "no_query_feedback"}
    assert result.runs[0].outcome.text() == "failed at wait (VK_TIMEOUT)"


def test_argv_placeholders_and_the_cli(tmp_path):
    marker = f"venustui-cli-{uuid.uuid4().hex}"
    out = run_cli("triage", "--deadline", "1.5", "--flags", "no_fence_feedback,no_bogus_flag", "--",
                  sys.executable, str(TARGETS / "fence_steps.py"), marker, timeout=120)
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr
    assert "passes with no_fence_feedback" in text
    assert "not tried: no_bogus_flag" in text  # warned, not refused
    wait_for(lambda: not processes_with(marker), timeout=10)
    target = Target("t", ("echo", "VN_PERF={VN_PERF}", "{VN_DEBUG}", "{NOT_A_FLAG}"))
    assert target.command(FlagSet(perf=("no_fence_feedback",), debug=("init",)), "fence", 5) == [
        "echo", "VN_PERF=no_fence_feedback", "init", "{NOT_A_FLAG}"]


def test_flags_environment_and_checks():
    base = {"VK_DRIVER_FILES": "/a.json", "VK_ICD_FILENAMES": "/b.json", "VN_PERF": "no_cmd_batching"}
    delta = guest_env(FlagSet(debug=("init", "result")), base)
    env = delta.apply(base)
    assert "VK_ICD_FILENAMES" not in env and env["VK_DRIVER_FILES"] == "/a.json"
    assert env["MESA_LOG_LEVEL"] == "debug" and env["VN_DEBUG"] == "init,result" and "VN_PERF" not in env
    assert len(delta.notes) == 3 and any(n.startswith("MESA_LOG_LEVEL=debug: Mesa 26.1") for n in delta.notes)
    # A log level the user set is theirs; VN_DEBUG names add to those inherited.
    kept = guest_env(FlagSet(debug=("result",)), {"VN_DEBUG": "vtest", "MESA_LOG_LEVEL": "info"})
    assert kept.set["VN_DEBUG"] == "vtest,result" and "MESA_LOG_LEVEL" not in kept.set
    older = guest_env(FlagSet(debug=("init",)), {}, mesa=(25, 0))
    assert older.set["MESA_LOG_LEVEL"] == "debug" and "harmless on Mesa 25.0" in older.notes[0]
    assert took_effect(["no_cmd_batching"], 0x40, values={"no_cmd_batching": 0x40}) == {"no_cmd_batching": True}
    chosen = guest_env(FlagSet(perf=("no_fence_feedback",)), base, driver_files="/lvp.json").apply(base)
    assert chosen["VK_DRIVER_FILES"] == "/lvp.json" and "VK_ICD_FILENAMES" not in chosen
    assert chosen["VN_PERF"] == "no_fence_feedback"
    gone = {c.name: c.problem for c in check_names("VN_PERF", ["no_fence_feedback", "no_timeline_sem_feedback",
                                                               "no_such"], (26, 2))}
    assert "gone in Mesa 26.2" in gone["no_fence_feedback"] and "renamed no_semaphore_feedback" in gone[
        "no_timeline_sem_feedback"] and "no Mesa release" in gone["no_such"]
    assert took_effect(["no_fence_feedback"], 0x10) == {"no_fence_feedback": True}
    assert took_effect(["no_fence_feedback"], 0x0) == {"no_fence_feedback": False}
    assert took_effect(["no_fence_feedback"], None) == {"no_fence_feedback": None}
    assert FlagSet().toggled("VN_PERF", "no_fence_feedback").vn_perf == "no_fence_feedback"
    assert EnvDelta().apply({"A": "1"}) == {"A": "1"}


def test_unstartable_target():
    record = Runner(deadline=5).run(Target("missing", ("/nonexistent/test_fence",)))
    assert record.outcome.status == NOT_STARTED and "No such file" in record.outcome.text()


@pytest.mark.parametrize("phase", ["fence", "map"])
def test_runner_classifies_the_nvidia_capture(phase):
    """The real H100 run's JSON, replayed through the runner as if the probe printed it now."""
    capture = DATA / "nvidia-h100" / f"{phase}.jsonl"
    # The runner appends the probe's options; the replaying shell ignores them.
    replay = Target("nvidia-capture", ("sh", "-c", 'cat "$0"', str(capture)), probe=True, phases=(phase,))
    record = Runner(deadline=10).run(replay, phase=phase)
    assert record.outcome.status == PASSED
    steps = {s["step"]: s for s in record.steps}
    assert steps["physdev"]["driver_id"] == "VK_DRIVER_ID_NVIDIA_PROPRIETARY"
    assert steps["physdev"]["name"].startswith("NVIDIA H100")
    from venustui.handles import decode

    assert decode(int(steps["fence"]["handle"], 16))[0].key == "pointer"
    if phase == "map":
        assert steps["poll"]["fence_ms"] is not None and steps["poll"]["slot_ms"] is not None


def test_runs_reach_the_model_through_the_session():
    """Runner events and the target's own output folded together: the run, its steps, its outcome."""
    from venustui.session import Session

    marker = f"venustui-session-{uuid.uuid4().hex}"
    session = Session([], follow=False)
    runner = Runner(session.hub, deadline=1.5, grace=0.3)
    target = Target("test_fence", (sys.executable, str(TARGETS / "fence_steps.py"), marker))
    runner.run(target)
    runner.run(target, FlagSet(perf=("no_fence_feedback",)))
    for _ in range(5):
        session.pump(0.2)
    model = session.model
    first, second = model.targets[1], model.targets[2]
    assert first.outcome["text"] == "hung at fence" and second.outcome["status"] == PASSED
    assert second.vn_perf == "no_fence_feedback" and second.env["set"]["VN_PERF"] == "no_fence_feedback"
    assert [r.facts.get("target_run") for r in model.runs] == [1, 2]
    assert model.runs[0].outcome() == "last step 4 Queue OK; no output after it"
    assert model.runs[1].outcome() == "last step 8 Wait OK; no output after it"
    wait_for(lambda: not processes_with(marker), timeout=10)
