"""Every diagnosis rule on real captures or labelled synthetic lines."""

from __future__ import annotations

import sys
import time

from venustui import events as ev
from venustui.diagnose import diagnose
from venustui.probe.runner import Runner, Target
from venustui.session import Session, fold_files
from venustui.triage import triage

from ..conftest import DATA, LAB, SEED, SYNTHETIC

LAB_ORDER = [LAB / f for f in ("guest-fence-default.log", "guest-fence-no_fence_feedback.log",
                               "guest-map-no_fence_feedback.log", "host.log")]
SEED_ALL = [SEED / f for f in ("guest.log", "host.log", "guest-no_fence_feedback.log", "host-no_fence_feedback.log")]


def rules_of(paths) -> dict:
    return {f.rule: f for f in diagnose(fold_files([str(p) for p in paths]))}


def test_seed_feedback_broken_polling_works():
    found = rules_of(SEED_ALL)
    claim = found["feedback-broken"].claim
    assert claim.startswith("fence feedback path broken, polling path works: fence 0x50000000005")
    texts = [e.text for e in found["feedback-broken"].evidence]
    assert "8. Wait: 2    (VK_TIMEOUT)" in texts and "[VKR] vkGetFenceStatus: ret=0" in texts
    assert found["feedback-broken"].severity == "critical"


def test_seed_without_rerun_is_only_a_fence_that_never_signaled():
    found = rules_of([SEED / "guest.log", SEED / "host.log"])
    assert "feedback-broken" not in found
    assert found["fence-not-signaled"].claim.startswith("fence 0x50000000005 was submitted OK and never signaled")
    assert "stuck-wait" in found  # the ring seqno wait the seed calls a symptom


def test_wrapped_handle_explained_across_runs():
    finding = rules_of(SEED_ALL)["validation-wrapped"]
    assert "object id 5" in finding.claim and "2 run(s)" in finding.claim and "VKR_DEBUG=validate" in finding.claim


def test_lab_ab_map_and_blob_export():
    found = rules_of(LAB_ORDER)
    assert found["feedback-ab"].claim == ("with fence feedback on, run 1 stopped after step 4 Queue (hangs in "
                                          "vkCreateFence); with no_fence_feedback, run 2 passed all 8 steps")
    assert "cannot map host-visible memory" in found["cannot-map"].claim
    blob = found["blob-export"]
    assert "failed -22 (EINVAL)" in blob.claim and "run 1 stopped after step 4 Queue" in blob.claim
    assert "vtest-client-error" in found


def test_stuck_fence_wait_while_ring_alive():
    finding = rules_of([SYNTHETIC / "stuck-fence-alive.log"])["stuck-fence-alive"]
    assert "3 warnings, up to iteration 3072" in finding.claim and finding.severity == "critical"


def test_alive_expired_fatal_and_slow_host():
    expired = rules_of([SYNTHETIC / "alive-expired.log"])
    assert "host process or its context is gone" in expired["ring-alive-expired"].claim
    assert "ring-fatal" not in expired  # the bare "aborting" after the reason is no evidence of a FATAL ring
    fatal = rules_of([SYNTHETIC / "ring-fatal.log"])
    assert "ring-fatal" in fatal
    # a command sent outside the ring (vkr_context_submit_cmd) that the host could not decode: the context is
    # fatal (a real render server's lines, tests/data/real-threads-extra/65)
    (context,) = DATA.glob("real-threads-extra/65-*.log")
    found = rules_of([context])
    assert "context-fatal" in found and "ring-fatal" not in found
    slow = rules_of([SYNTHETIC / "slow-host-call.log"])["slow-host-call"]
    assert "iteration 61440 (abort at 65536" in slow.claim


def test_transport_problems():
    found = rules_of([SYNTHETIC / "transport.log"])
    assert "(0 != 1)" in found["wire-format"].claim
    assert "read -1 ECONNRESET" in found["lost-connection"].claim
    assert "failed to connect" in found["transport"].claim


def test_layer_not_present():
    finding = rules_of([SYNTHETIC / "layer-missing.log"])["layer-missing"]
    assert "VK_LAYER_KHRONOS_validation" in finding.claim


def _target_run(session: Session, run: int, phase: str, vn_perf: str, outcome: dict, env: dict | None = None,
                output: bytes = b"") -> None:
    """A runner's events around the target's output, folded as the session folds live ones (synthetic)."""
    now = time.time()
    session.fold(ev.RunEvent("start", run, {"target": "probe", "phase": phase, "vn_perf": vn_perf,
                                            "flags": vn_perf and f"VN_PERF={vn_perf}", "env": env or {"set": {}}},
                             now, 0.0, seq=run * 100))
    if output:
        session.fold(ev.Chunk("guest", "stdout", 0, 0, output, False, now, 0.0, seq=run * 100 + 1))
    session.fold(ev.RunEvent("end", run, {"outcome": outcome}, now, 0.0, seq=run * 100 + 50))


def test_map_phase_hanging_in_every_flag_set():
    session = Session([], follow=False)
    hung = {"status": "hung", "step": "map", "text": "hung at map"}
    _target_run(session, 1, "map", "", hung)
    _target_run(session, 2, "map", "no_fence_feedback", hung)
    finding = {f.rule: f for f in diagnose(session.model)}["cannot-map"]
    assert "in every flag set tried (2 runs)" in finding.claim


def test_triage_runs_become_an_ab_finding():
    session = Session([], follow=False)
    target = Target("test_fence", (sys.executable, str(DATA / "targets" / "fence_steps.py"), "venustui-diag"))
    triage(Runner(session.hub, deadline=1.5, grace=0.3), target, names=["no_fence_feedback"])
    for _ in range(5):
        session.pump(0.2)
    finding = {f.rule: f for f in diagnose(session.model)}["feedback-ab"]
    assert finding.claim == "fence phase hangs in vkCreateFence with the defaults (run #1); passes with " \
                            "no_fence_feedback (run #2)"


def test_flag_without_effect_and_hidden_venus_lines():
    session = Session([], follow=False)
    _target_run(session, 1, "fence", "no_fence_feedback", {"status": "passed", "text": "passed"},
                {"set": {"VN_PERF": "no_fence_feedback", "VN_DEBUG": "init"}},
                b"MESA-VIRTIO: debug: vn_env is as below:\n\tdebug = 0x1\n\tperf = 0x0\n1. Instance OK\n")
    found = {f.rule: f for f in diagnose(session.model)}
    assert "no_fence_feedback had no effect" in found["flag-ignored"].claim
    hidden = Session([], follow=False)
    _target_run(hidden, 1, "fence", "", {"status": "passed"}, {"set": {"VN_DEBUG": "init"}}, b"1. Instance OK\n")
    assert "venus-lines-hidden" in {f.rule for f in diagnose(hidden.model)}


def test_a_bare_abort_says_the_reason_is_missing_not_fatal(tmp_path):
    """Synthetic (labelled): Mesa's bare 'aborting' with no reason before it."""
    log = tmp_path / "guest.log"
    log.write_text("MESA-VIRTIO: debug: vn_env is as below:\n\tdebug = 0x0\nMESA-VIRTIO: debug: aborting\n")
    found = rules_of([log])
    assert "ring-fatal" not in found and "do not say why" in found["guest-aborted"].claim


def test_a_users_log_that_asked_for_venus_lines_and_got_none(tmp_path):
    """Synthetic (labelled): a pasted terminal whose command sets VN_DEBUG=init and whose output holds no vn_env
    block, as Mesa 26.1+ prints without MESA_LOG_LEVEL=debug (measured on the lab's 26.2 pair, test_lab)."""
    def findings(*lines: str) -> dict:
        path = tmp_path / f"log{len(list(tmp_path.iterdir()))}.log"
        path.write_text("\n".join(lines) + "\n")
        return {f.rule: f for f in diagnose(fold_files([str(path)]))}

    output = ['{"phase": "fence", "step": "instance", "result": "VK_SUCCESS", "ms": 70.1, "ev": "step"}', "passed"]
    hidden = findings("user@guest:~$ VN_DEBUG=init,result ./venus-probe --phase fence", *output)
    assert "VN_DEBUG=init,result" in hidden["venus-lines-hidden"].claim
    assert hidden["venus-lines-hidden"].evidence[0].text.startswith("user@guest:~$ VN_DEBUG=")
    assert "venus-lines-hidden" not in findings("$ VN_DEBUG=init MESA_LOG_LEVEL=debug ./probe", *output)
    assert "venus-lines-hidden" not in findings("$ VN_DEBUG=result ./probe", *output)  # no vn_env asked for
    shown = findings("$ VN_DEBUG=init ./probe", "MESA-VIRTIO: debug: vn_env is as below:", "\tdebug = 0x1",
                     "\tperf = 0x0", *output)
    assert "venus-lines-hidden" not in shown
    assert "venus-lines-hidden" not in findings("$ VN_DEBUG=init ./probe")  # nothing followed it yet


def test_a_pasted_step_test_with_alive_expired_points_at_the_fence_first():
    """real-threads-extra/33: submit 0, status NOT_READY, wait TIMEOUT, then the ring's ALIVE expired. The thread found
    the fence feedback path broken (VN_PERF=no_fence_feedback fixed it): the fence is what to test first."""
    path = DATA / "real-threads-extra" / "33-pannousqemu-cfff6b31-test-step-ring-seqno-alive-expired.log"
    (run,) = fold_files([str(path)]).runs
    assert (run.last_step.num, run.last_step.role, run.last_step.result) == (11, "wait", "VK_TIMEOUT")
    assert [s.role for s in run.steps[:5]] == ["instance", "physdev", "device", "queue", "fence"]
    found = rules_of([path])
    assert "ring-alive-expired" not in found
    expired = found["alive-expired-after-fence"]
    assert expired.confidence == "possible" and "VN_PERF=no_fence_feedback" in expired.next_step
    assert "no_fence_feedback" in found["fence-not-signaled"].next_step


def test_no_venus_capset_names_the_device_features_venus_lacks():
    """real-threads-extra/44: a virgl-only device, '[drm] features: … -resource_blob -host_visible', '-context_init'."""
    found = rules_of([DATA / "real-threads-extra" / "44-waylandproxyvirtwl51-virtio-vga-no-context_init-get-caps-einval.log"])
    claim = found["no-venus-capset"].claim
    assert "capsets 1 and not Venus" in claim and "lacks resource_blob, host_visible, context_init" in claim
    healthy = rules_of([DATA / "real-threads-extra" / "25-libkrun565-num-capsets-hardcoded-drm-0x1200-cmd-0x108.log"])
    assert "lacks" not in healthy["no-venus-capset"].claim  # no feature line says "-": nothing claimed


def test_a_2d_only_device_says_the_vmm_gave_no_3d(tmp_path):
    """The kernel's words for a virtio-gpu without virgl, newer ('[drm] features: -virgl …', as in
    upstream-formats/kernel.log) and older ('virgl 3d acceleration not supported by host'); synthetic lines, labelled."""
    for lines in (["[    1.240200] [drm] features: -virgl +edid -resource_blob -host_visible"],
                  ["[    1.234567] [drm] virgl 3d acceleration not supported by host"]):
        path = tmp_path / "dmesg.log"
        path.write_text("\n".join(lines + ["MESA-VIRTIO: debug: vn_CreateInstance: VK_ERROR_INITIALIZATION_FAILED"]) + "\n")
        finding = rules_of([path])["device-without-virgl"]
        assert finding.severity == "critical" and "virtio-gpu-gl-pci" in finding.next_step
        assert finding.evidence[0].text == lines[0]  # the line that says so
        path.write_text(lines[0] + "\n")
        assert rules_of([path])["device-without-virgl"].severity == "info"  # nothing here wanted Venus
    path.write_text("[    1.234567] [drm] virgl 3d acceleration enabled\n[    1.240200] [drm] features: -virgl\n"
                    "[    1.245000] [drm] cap set 0: id 1, max-version 1, max-size 308\n")
    assert "device-without-virgl" not in rules_of([path])  # capsets listed: the device has 3D after all


def test_a_venus_driver_without_a_3d_device_is_the_device_s_fault_not_a_missing_driver(tmp_path):
    """The loader loaded Venus's driver, it found no device, and the kernel says the device has no 3D: the device is
    the finding (critical: something wanted Vulkan), not "no driver" nor the driver's symptom (synthetic, labelled)."""
    path = tmp_path / "guest.log"
    path.write_text("[    1.000000] [drm] virgl 3d acceleration not supported by host\n"
                    "ERROR: [Loader Message] Code 0 : setup_loader_term_phys_devs: Call to 'vkEnumeratePhysicalDevices' "
                    "in ICD /usr/lib/x86_64-linux-gnu/libvulkan_virtio.so failed with error code -3\n"
                    "ERROR: vkEnumeratePhysicalDevices reported zero accessible devices.\n")
    found = rules_of([path])
    assert found["device-without-virgl"].severity == "critical"
    assert "no-vulkan-driver" not in found and "venus-icd-no-device" not in found
