"""The model as a fold: the seed's story, the lab's runs, and determinism."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venustui.events import Chunk
from venustui.ingest import Ingest
from venustui.model import Model
from venustui.model.vulkan_devices import driver_version_text
from venustui.parse import Parser
from venustui.session import fold_files
from venustui.sources.split import ChunkSplitter

from ..conftest import DATA, SEED


def test_seed_fence_story():
    model = fold_files([str(SEED / "host.log"), str(SEED / "guest.log")])
    assert len(model.runs) == 1
    run = model.runs[0]
    assert run.outcome() == "failed at step 8 Wait (VK_TIMEOUT)"
    ties = model.fence_ties()
    assert len(ties) == 1
    guest_key, (host_key, inferred) = next(iter(ties.items()))
    guest, host = model.fences[guest_key], model.fences[host_key]
    assert inferred is True
    assert host.handle == 0x50000000005 and host.create_result == "VK_SUCCESS"
    assert host.device == 0xa810d6818
    assert guest.submits and guest.submits[0][1] == "VK_SUCCESS"
    assert guest.not_ready_polls == 1 and guest.waits[0][1] == "VK_TIMEOUT"
    assert guest.state == "timeout"
    stuck = model.ring.stuck["ring seqno"]
    assert stuck.count == 1 and stuck.max_iter == 4096 and stuck.runs == {1}


def test_seed_tie_does_not_depend_on_order():
    forward = fold_files([str(SEED / "host.log"), str(SEED / "guest.log")])
    backward = fold_files([str(SEED / "guest.log"), str(SEED / "host.log")])
    for model in (forward, backward):
        (_, (host_key, _)), = model.fence_ties().items()
        assert model.fences[host_key].handle == 0x50000000005


def test_seed_rerun_polling_path_and_repeated_handle():
    model = fold_files([str(SEED / p) for p in
                        ("guest.log", "host.log", "guest-no_fence_feedback.log", "host-no_fence_feedback.log")])
    assert [r.outcome().split(" (")[0] for r in model.runs] == [
        "failed at step 8 Wait", "last step 8 Wait OK; no output after it"]
    host_fences = [f for f in model.fences.values() if f.side == "host"]
    assert [f.handle for f in host_fences] == [0x50000000005, 0x50000000005]
    polled = host_fences[1]
    assert polled.host_status_calls == 2 and polled.state == "signaled" and polled.path == "host polling"
    seen = model.handles[0x50000000005]
    assert seen.runs == {1, 2} and seen.count == 2 and "fence" in seen.roles
    assert 0x50000000005 in [h.value for h in model.repeated_handles()]


def test_lab_runs(lab_fixture):
    files = ["guest-fence-default.log", "guest-fence-no_fence_feedback.log", "guest-map-no_fence_feedback.log",
             "host.log"]
    model = fold_files([str(lab_fixture / f) for f in files])
    first, second, third = model.runs
    assert first.last_step.num == 4 and first.last_step.role == "queue"
    assert first.perf_mask == 0 and first.fence_feedback is True
    assert second.perf_mask == 0x10 and second.perf_names == ["no_fence_feedback"]
    assert second.fence_feedback is False
    assert [s.num for s in second.steps] == list(range(1, 9)) and all(s.ok for s in second.steps)
    assert third.progress[-1][:2] == ("alloc", "ok")
    fence = model.fences[second.fences[0]]
    assert fence.state == "signaled" and fence.path == "host polling" and fence.handle == 0x7fb15c0023f0
    failures = [n for n in model.notable if n.what == "call_failed"]
    assert len(failures) == 2 and failures[0].fields["errno"] == "EINVAL"
    assert len(model.devices) == 2 and len(model.queues) == 2


def test_fold_is_pure(lab_fixture):
    """The same events folded into a fresh model reach the same state (what replay relies on)."""
    from venustui.session import Session
    from venustui.sources import parse_spec

    paths = [str(p) for p in sorted(lab_fixture.glob("*.log"))] + [str(p) for p in sorted(SEED.glob("*.log"))]
    session = Session([parse_spec(p) for p in paths], follow=False)
    session.start()
    events = [event for event, _ in session.run_to_end()]
    session.stop()
    again = Model()
    ingest = Ingest(Parser(), again)
    for event in events:
        ingest.fold(event) if isinstance(event, Chunk) else again.apply(event)
    assert again.snapshot() == session.model.snapshot()
    assert len(again.runs) == 5
    assert sum(again.lines.values()) == sum(e.count for e in events if isinstance(e, Chunk))


def test_chunking_does_not_change_the_state(lab_fixture):
    """The same bytes cut into chunks of any size fold to the same state."""
    data = b"".join((lab_fixture / f).read_bytes() for f in
                    ("guest-fence-default.log", "host.log", "guest-fence-no_fence_feedback.log"))
    data += (SEED / "host.log").read_bytes() + (SEED / "guest.log").read_bytes()

    def fold(size):
        model = Model()
        ingest = Ingest(Parser(), model)
        split = ChunkSplitter("mixed", "file")
        seq = 1
        chunks = []
        for pos in range(0, len(data), size):
            chunks += split.feed(data[pos:pos + size], wall=0.0, mono=0.0)
        chunks += split.flush(wall=0.0, mono=0.0)
        for chunk in chunks:
            chunk.seq = seq
            seq += chunk.count
            ingest.fold(chunk)
        return model.snapshot()

    whole = fold(len(data))
    assert fold(7) == whole and fold(100) == whole and fold(4096) == whole


def test_feedback_slot_state_from_the_logs(lab_fixture):
    model = fold_files([str(lab_fixture / "guest-fence-default.log"), str(lab_fixture / "host.log")])
    run = model.runs[0]
    assert run.feedback() == {"fence": True, "event": True, "semaphore": True, "query": True}
    assert run.facts["slot_allocation"].startswith("failed: blob export")
    assert len(run.facts["blob_export_failures"]) == 2
    flagged = fold_files([str(lab_fixture / "guest-fence-no_fence_feedback.log")])
    fence = next(iter(flagged.fences.values()))
    assert flagged.runs[0].feedback()["fence"] is False and fence.slot == "none (no_fence_feedback)"


def test_handle_table_is_bounded(monkeypatch):
    import venustui.model.handle_table as model_mod

    monkeypatch.setattr(model_mod, "HANDLE_LIMIT", 100)
    model = Model()
    model.see_handle(0xAAAA0, "s", "vkr", 1, 0.0)
    model.see_handle(0xAAAA0, "s", "vkr", 2, 0.0)  # seen twice: kept over values seen once
    for n in range(1, 300):
        model.see_handle(0x100000 + n, "s", "vkr", 2 + n, 0.0)
    assert len(model.handles) <= 100 and model.handles_evicted >= 200
    assert model.handles[0xAAAA0].count == 2


def test_fence_table_is_bounded(monkeypatch):
    import venustui.model.fold as model_mod
    from venustui.events import Line

    monkeypatch.setattr(model_mod, "FENCE_LIMIT", 50)
    model = Model()
    parser = Parser()
    for n in range(1, 200):
        raw = f"[VKR] CreateFence: MoltenVK returned 0, fence=0x{n:x}0000 (0x{n:x}0000)".encode()
        for record in parser.parse(Line("host", "file", 0, 0, raw, True, 0.0, 0.0, n)):
            model.apply(record)
    model.apply(next(iter(parser.parse(Line("host", "file", 0, 0, b"[VKR] vkGetFenceStatus: ret=0", True, 0.0,
                                            0.0, 500)))))
    assert len(model.fences) <= 50 and model.fences_evicted >= 149
    assert list(model.fences.values())[-1].host_status_calls == 1  # the newest fence still answers
    assert len(model._host_fence_by_handle) <= 50  # nothing is kept per forgotten fence
    for n in range(200, 260):  # drivers reuse handles: each creation is a fence of its own
        raw = f"[VKR] CreateFence: MoltenVK returned 0, fence=0x{n % 3:x}0000 (0x{n % 3:x}0000)".encode()
        for record in parser.parse(Line("host", "file", 0, 0, raw, True, 0.0, 0.0, n + 400)):
            model.apply(record)
    assert len(model.fences) + model.fences_evicted == 199 + 60


_TRACKED_CALLS = ["CreateFence", "vkQueueSubmit", "vkGetFenceStatus", "vkWaitForFences", "vkGetDeviceQueue",
                  "vkCreateDevice", "vkDestroyFence", "vkResetFences"]


@settings(deadline=None, max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(_TRACKED_CALLS),
                          st.lists(st.tuples(st.sampled_from(["fence", "queue", "device", "ret", "result"]),
                                             st.binary(min_size=1, max_size=12)), max_size=4)),
                min_size=1, max_size=8))
def test_model_takes_any_field_values(calls):
    """Synthetic [VKR] lines whose handle fields hold junk after 0x (a damaged log): folded, never a crash."""
    lines = []
    for fn, pairs in calls:
        fields = b" ".join(key.encode() + b"=0x" + value.replace(b"\n", b"") for key, value in pairs)
        lines.append(b"[VKR] " + fn.encode() + b": " + fields)
    model = Model()
    Ingest(Parser(), model).fold(Chunk("junk.log", "file", 0, 0, b"\n".join(lines) + b"\n", False, 0.0, 0.0, 1))
    assert model.lines["junk.log"] == len(lines)


def test_a_fence_says_how_long_it_took_to_signal_or_has_gone_unsignaled():
    """Synthetic lines in the seed's step format, arriving at chosen times: the time to signal is
    between the lines' arrivals; an unsignaled fence counts to the newest line from any source."""
    from venustui.present.fences import fence_line

    model = Model()
    ingest = Ingest(Parser(), model)
    seq = 1

    def arrive(source: str, text: str, wall: float) -> None:
        nonlocal seq
        data = text.encode()
        ingest.fold(Chunk(source, "file", 0, 0, data, False, wall, wall, seq, data.count(b"\n")))
        seq += data.count(b"\n")

    arrive("a.log", "1. Instance OK\n2. PhysDev OK\n3. Device OK\n4. Queue OK\n5. Fence created\n"
                    "6. Submit: 0  (VK_SUCCESS)\n", 100.0)
    arrive("a.log", "8. Wait: 0    (VK_SUCCESS)\n", 101.5)
    arrive("b.log", "1. Instance OK\n2. PhysDev OK\n3. Device OK\n4. Queue OK\n5. Fence created\n", 102.0)
    arrive("host.log", "vtest_client_dispatch_commands: client context created.\n", 232.4)
    signaled, waiting = model.fences.values()
    assert (signaled.state, signaled.signaled_wall - signaled.created_wall) == ("signaled", 1.5)
    assert "signaled 1.5 s after its creation" in fence_line(model, signaled, None)
    assert waiting.signaled_wall is None
    assert "unsignaled 2 min 10 s after its creation (to the newest line)" in fence_line(model, waiting, None)


def test_most_seen_handles_are_the_first_of_all_sorted():
    import random

    model = Model()
    rng = random.Random(7)
    for seq in range(1, 400):  # values seen once and again, in no run, one run or two
        value = rng.randrange(0x1000, 0x1000 + 300)
        model.handles.see([(value, seq, seq, rng.choice([1, 1, 3]), None)], "s", "host",
                          rng.choice([None, None, 1, 2]), None, float(seq))
    everything = sorted(model.handles.values(), key=lambda h: (-len(h.runs), -h.count))
    for limit in (0, 1, 10, 60, 250, 1000):
        assert model.handles.most_seen(limit) == everything[:limit]
    assert any(h.count == 1 for h in everything[:250]) and any(h.count > 1 for h in everything[:250])


@pytest.mark.parametrize(("raw", "device", "said"), [
    ("0x6400007", "Virtio-GPU Venus (NVIDIA GeForce RTX 4090)", "25.0.7 (0x6400007)"),  # Venus: the guest's Mesa
    ("104857607", "llvmpipe (LLVM 19.1.7, 256 bits)", "25.0.7 (104857607)"),
    ("2244657152 (0x85cac000)", "NVIDIA GeForce RTX 3090", "535.43.0.0 (2244657152)"),  # NVIDIA packs 10.8.8.6
    ("25.0.7 (104857607)", "Virtio-GPU Venus (Apple M1)", "25.0.7 (104857607)"),  # already said
    ("0xnope", "x", "0xnope")])
def test_a_driver_version_number_is_said_as_the_version_it_packs(raw, device, said):
    assert driver_version_text(raw, device) == said


def test_a_line_naming_the_driver_starts_no_run(tmp_path):
    """A grep on a prompt or a logcat header names MESA-VIRTIO: Mesa's mention, not the driver running (synthetic
    lines, labelled); the driver's own line after it starts the run."""
    log = tmp_path / "guest.log"
    log.write_text("$ adb logcat | grep MESA-VIRTIO\ntime=2025-06-10T12:00:00Z level=WARN msg=MESA-VIRTIO\n")
    model = fold_files([str(log)])
    assert model.runs == [] and model.counts[("mesa", "mention")] == 1
    with log.open("a") as f:
        f.write("MESA-VIRTIO: debug: stuck in fence wait with iter at 1024\n")
    model = fold_files([str(log)])
    (run,) = model.runs
    assert run.start_seq == run.last_seq and model.ring.stuck["fence"].runs == {1}  # only the driver's line


def test_the_vulkan_device_a_log_names_with_its_driver_and_host_gpu(tmp_path):
    """vulkaninfo --summary from a krunkit guest (real-threads-extra/13): the device, its driver and the host GPU
    inside "Virtio-GPU Venus (…)"; the QEMU lab's fencetest: the device each run used."""
    model = fold_files([str(DATA / "real-threads-extra" / "13-vulkanstream2-krunkit-vulkaninfo-summary-venus-m1.log")])
    (device,) = model.vulkan_devices
    assert (device.name, device.host_gpu, device.venus) == ("Virtio-GPU Venus (Apple M1)", "Apple M1", True)
    assert {key: device.properties[key] for key in ("apiVersion", "deviceType", "driverID", "driverInfo")} == {
        "apiVersion": "1.2.0", "deviceType": "PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU",
        "driverID": "DRIVER_ID_MESA_VENUS", "driverInfo": "Mesa 23.3.3"}
    model = fold_files([str(DATA / "qemu-lavapipe" / "guest-serial.log")])
    (device,) = model.vulkan_devices
    assert device.host_gpu == "llvmpipe (LLVM 19.1.7, 256 bits)" and device.runs == {1, 2}
    assert device.properties["deviceType"] == "PHYSICAL_DEVICE_TYPE_CPU"
    # Venus reports the guest's Mesa (25.0.7) packed as Vulkan packs versions; a version is not a handle
    assert device.properties["driverVersion"] == "25.0.7 (0x6400007)" and not model.repeated_handles()
    assert [run.facts["vulkan_device"] for run in model.runs] == [device.name] * 2
    # two devices in one vulkaninfo --summary (synthetic, in its shape): each block's fields are its own
    log = tmp_path / "vulkaninfo.txt"
    log.write_text("GPU0:\n\tapiVersion = 1.3.255\n\tdeviceType = PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU\n"
                   "\tdeviceName = Virtio-GPU Venus (Intel(R) UHD Graphics 620 (KBL GT2))\n\tdriverName = venus\n"
                   "GPU1:\n\tapiVersion = 1.3.289\n\tdeviceType = PHYSICAL_DEVICE_TYPE_CPU\n"
                   "\tdeviceName = llvmpipe (LLVM 17.0.6, 256 bits)\n\tdriverName = llvmpipe\n")
    venus, cpu = fold_files([str(log)]).vulkan_devices
    assert (venus.host_gpu, venus.properties["apiVersion"], venus.properties["driverName"]) == (
        "Intel(R) UHD Graphics 620 (KBL GT2)", "1.3.255", "venus")
    assert (cpu.venus, cpu.properties["apiVersion"], cpu.properties["deviceType"]) == (
        False, "1.3.289", "PHYSICAL_DEVICE_TYPE_CPU")
