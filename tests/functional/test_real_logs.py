"""Logs real users posted in public threads (tests/data/real-threads, provenance in its MANIFEST) and a real
QEMU guest's serial console (tests/data/qemu-lavapipe): the lines a Venus developer reads in them are
recognised, by family and kind, and the benign ones as benign. The measure of "Venus-relevant" is fixed
(the issue's list of markers), not chosen per fixture."""

from __future__ import annotations

import re

import pytest

from venustui.diagnose import diagnose
from venustui.events import Line
from venustui.parse import Parser
from venustui.session import fold_files

from ..conftest import DATA

REAL = DATA / "real-threads"
EXTRA = DATA / "real-threads-extra"  # more public threads, collected here (provenance in its MANIFEST)
QEMU = DATA / "qemu-lavapipe"
RELEVANT = re.compile(r"MESA-VIRTIO|vkr: |virtio_gpu|\[drm|hvf\]|krun|vn_[A-Za-z_]+: |VK_ERROR|ERROR_OUT_OF|"
                      r"ErrorOutOf|Assertion|HV_UNSUPPORTED|render_server")


def parsed(path) -> list[tuple[str, list]]:
    """Each line of a file with its records, parsed as a session parses them (one parser, in order)."""
    parser = Parser()
    out = []
    for number, raw in enumerate(path.read_bytes().split(b"\n")[:-1], 1):
        line = Line(path.name, "file", 0, 0, raw, True, 0.0, 0.0, number)
        out.append((raw.decode("utf-8", "replace"), parser.parse(line)))
    return out


@pytest.mark.parametrize("path", sorted(REAL.glob("*.log")) + sorted(EXTRA.glob("*.log")) + sorted(QEMU.glob("*.log")),
                         ids=lambda p: p.name)
def test_venus_relevant_lines_are_recognised(path):
    relevant = [(text, records) for text, records in parsed(path) if RELEVANT.search(text)]
    missed = [text for text, records in relevant if all(r.fmt == "text" for r in records)]
    assert len(relevant) - len(missed) >= 0.95 * len(relevant), missed


# (file, a line's distinctive text, family, kind, level): what a Venus developer must get from each thread.
EXPECTED = [
    ("01-", "[drm] Host memory window: 0x8000000000 +0x100000000", "kernel", "hostmem", "info"),
    ("01-", "[drm] cap set 2: id 4, max-version 0, max-size 160", "kernel", "capset", "info"),
    ("01-", "[drm] features: +virgl +edid +resource_blob +host_visible", "kernel", "features", "info"),
    ("01-", "Failed to CreateInstance in ICD 1.  Skipping ICD.", "loader", "icd_skipped", "warn"),
    ("01-", "deviceName         = Virtio-GPU Venus (Intel(R) Graphics (RPL-S))", "vulkaninfo", "device_field", "info"),
    ("01-", "vkr: failed to import resource: invalid res_id 9", "vkr-server", "import_failed", "error"),
    ("01-", "vkr: vkAllocateMemory resulted in CS error", "vkr-server", "cs_error", "error"),
    ("01-", "vkr: ring_submit_cmd: vn_dispatch_command failed", "vkr-server", "ring_dispatch_failed", "error"),
    ("01-", "MESA-VIRTIO: debug: vn_ring_submit abort on fatal", "mesa", "ring_submit_fatal", "error"),
    ("02-", "vkr: failed to import resource: invalid res_id 5", "vkr-server", "import_failed", "error"),
    ("05-", "device-local=true:MESA-VIRTIO: debug: stuck in fence wait with iter at 1024", "mesa", "stuck_wait", "warn"),
    ("05-", "07:19:41,439: MESA-VIRTIO: debug: stuck in fence wait with iter at 13312", "mesa", "stuck_wait", "warn"),
    ("05-", "Device Name:    Virtio-GPU Venus (Intel(R) UHD Graphics (TGL GT1))", "vulkaninfo", "device_name", "info"),
    ("08-", "[ERROR hvf] map_memory: err -85377021", "krun", "hvf_map_error", "error"),
    ("08-", "[WARN  hvf] map_memory: host_start_addr=0x102a52d00", "krun", "hvf_map", "info"),
    ("08-", "Error adding memory map: MemoryMap", "krun", "memory_map_error", "error"),
    ("08-", "vk::Device::createFence: ErrorOutOfHostMemory", "app", "vk_call_failed", "error"),
    ("10-", "vn_CreateDevice: VK_ERROR_INITIALIZATION_FAILED", "mesa", "result", "error"),
    ("10-", "vkCreateDevice failed with ERROR_INITIALIZATION_FAILED", "app", "vk_call_failed", "error"),
    ("10-", "deviceName = Virtio-GPU Venus (NVIDIA GeForce RTX 3060)", "vulkaninfo", "device_field", "info"),
    ("12-", "Assertion `gpu->capset.data.supports_blob_id_0' failed.", "app", "assertion", "error"),
    ("12-", "ubuntu@ubuntu:~$ vkcube", "shell", "command", "info"),
    ("01-", "virgl_resource_create: err=0, res=2", "virglrenderer", "debug_print", "debug"),
    ("02-", "vkr_context_add_object: 1 -> 0x7b2c00000288", "virglrenderer", "debug_print", "debug"),
    ("02-", "virtio_gpu_cmd_res_back_attach res 0x5", "qemu", "trace", "debug"),
]
# The extra threads: what each says that a Venus developer needs, beyond the fixed measure's markers.
EXPECTED_EXTRA = [
    ("09-", "Render server support was not enabled in virglrenderer", "qemu", "no_render_server", "error"),
    ("09-", "failed to initialize venus rendererqemu: virgl could not be initialized: -1", "qemu", "venus_init_failed",
     "error"),
    ("10-", "qemu: virgl could not be initialized: -1", "qemu", "virgl_init_failed", "error"),
    ("11-", "Property 'virtio-gpu-gl-pci.context_init' not found", "qemu", "property_not_found", "error"),
    ("06-", "Selected GPU 0: Virtio-GPU Venus (Apple M4 Max), type: IntegratedGpu", "app", "device_line", "info"),
    ("03-", "using device Vulkan0 (Virtio-GPU Venus (Apple M4 Pro))", "app", "venus_device", "info"),
    ("12-", "does not support required extensions, missing: [VK_KHR_swapchain", "app", "missing_extensions", "error"),
    ("12-", "[ERROR] BackendCreationException: Device missing capabilities", "app", "error", "error"),
    ("13-", "driverName         = venus", "vulkaninfo", "device_field", "info"),
    ("02-", "[  OK  ] Stopped cups.service", "systemd", "unit_status", "info"),
    ("02-", "Gdk-WARNING **: 09:26:09.470: eglMakeCurrent failed", "qemu", "display_warning", "warn"),
    ("02-", "response 0x1200 (command 0x209)", "kernel", "response_error", "error"),
    ("07-", "HV_UNSUPPORTED", "qemu", "hvf_error", "error"),
    ("05-", "vkCreateInstance failed with ERROR_OUT_OF_HOST_MEMORY", "app", "vk_call_failed", "error"),
    ("23-", "register_memory:SystemCallFailed: Permission denied", "crosvm", "map_failed", "error"),
    ("23-", "Some(ResourceMapBlob) -> ErrBase(Error(13))", "crosvm", "command_error", "error"),
    ("21-", "Rutabaga initialization failed!: ComponentError(-19)", "crosvm", "rutabaga_init_failed", "error"),
    # libkrun's own crates (src/CRATE/src/…): a panic in muvm's GPU worker is libkrun's, not crosvm's
    ("52-", "thread 'gpu worker' panicked at src/devices/src/virtio/gpu/virtio_gpu.rs", "krun", "panic", "error"),
    ("15-", "GPU id = 0 (llvmpipe (LLVM 18.1.6, 128 bits))", "vulkaninfo", "device_listed", "info"),
    ("14-", "Internal Vulkan error (-1): A host memory allocation has failed", "app", "vk_call_failed", "error"),
    ("19-", "ERROR while creating surface for extension VK_KHR_wayland_surface", "vulkaninfo", "surface_unavailable",
     "info"),
    ("26-", "timed out waiting for cap set 0", "kernel", "drm_error", "error"),
    ("27-", "Building the microVM failed: Internal(Vm(VmSetup(VmCreate)))", "krun", "vm_build_failed", "error"),
    ("27-", "Error: unable to begin running krun workload", "krun", "error", "error"),
    ("29-", "DEBUG devices::virtio::mmio[console]] interrupt: signal_used_queue", "krun", "message", "debug"),
    ("29-", "DEBUG devices::virtio::gpu::device] virtio_gpu: GET_shm_region", "krun", "message", "debug"),
    ("32-", "localhost:~# Jan 20 15:19:34  virgl_render_server[54635] <Debug>: render_state_init: flags=0x2c0",
     "virglrenderer", "debug_print", "debug"),
    ("32-", "invalid request size (48) or fd count (1) for context op 1", "virglrenderer", "error", "error"),
    ("33-", "4. Queue OK: 0xffffa508fa10", "step", "step", "info"),
    ("33-", "11. WaitForFences: 2", "step", "step", "warn"),
    ("33-", "localhost:~# /tmp/test_step 2>&1", "shell", "command", "info"),
    ("34-", "[virgl_render_server] render_receive_request: got header size=8 fd_count=0", "virglrenderer",
     "debug_print", "debug"),
    ("36-", "cannot enable blob resources without udmabuf", "qemu", "error", "error"),
    ("37-", "/vendor/lib64/hw/vulkan.virtio.so (vn_relax+351)", "app", "venus_frame", "info"),
    ("38-", "Abort message: 'Assertion failed: mCreateDevice(", "app", "abort_message", "error"),
    ("38-", "export RENDER_SERVER_EXEC_PATH=", "shell", "command", "info"),
    ("39-", "├─37731 /usr/lib/waydroid-nvidia/virgl_render_server --socket-fd 32", "virglrenderer", "process", "info"),
    ("40-", "NVRM: Xid (PCI:0000:01:00): 69", "kernel", "nvidia_xid", "error"),
    ("41-", "MESA: error: Opening /dev/dri/renderD128 failed: Permission denied", "app", "mesa_log", "error"),
    ("42-", "export GGML_VK_VISIBLE_DEVICES=0", "shell", "command", "info"),
    ("45-", "vkCreateInstance: Found no drivers!", "loader", "no_drivers", "error"),
    ("41-", "TU: error: ../src/freedreno/vulkan/tu_knl.cc:385: failed to open device", "loader", "driver_declined",
     "info"),  # another ICD declining the virtio render node: benign
    ("47-", "07:09:03,142: MESA-VIRTIO: debug: stuck in fence wait with", "mesa", "stuck_wait", "warn"),  # wrapped
    ("47-", "07:08:52,277: [vertex] device-local=true:MESA-VIRTIO:", "mesa", "message", "debug"),  # cut by the wrap
    ("48-", "Some(CmdSubmit3d) -> ErrRutabaga(InvalidResourceId)", "crosvm", "command_error", "error"),
    ("50-", "virtio_gpu_create_mapping_iov: nr_entries is too big", "qemu", "guest_error", "error"),
    # the kernel's rate limit on virtio-gpu's error responses (a QEMU guest error has the same "fn: " shape)
    ("49-", "virtio_gpu_dequeue_ctrl_func: 284 callbacks suppressed", "kernel", "gpu_errors_suppressed", "warn"),
    ("115-", "virtio_gpu_dequeue_ctrl_func: 90 callbacks suppressed", "kernel", "gpu_errors_suppressed", "warn"),
    # Mesa's gfxstream ICD finding no host of its own on a bare-metal desktop: another driver declining (benign)
    ("46-", "MESA: error: Failed to create virtgpu AddressSpaceStream", "loader", "gfxstream_declined", "info"),
    ("46-", "MESA: error: vulkan: Failed to get host connection", "loader", "gfxstream_declined", "info"),
    ("115-", "0x1200 (command 0x105)", "kernel", "response_error", "error"),  # a mail client's wrap: its second half
    ("92-", "Building the microVM failed: Internal(Vm(CreateGuestMemfd", "krun", "vm_build_failed", "error"),
    ("104-", "Failure during vcpu run: Bad address (os error 14)", "krun", "vcpu_run_failed", "error"),
    ("110-", "HVF error: HV_UNSUPPORTED", "qemu", "hvf_error", "error"),
    ("114-", "[mvk-error] VK_ERROR_FEATURE_NOT_PRESENT: vkCreateBuffer()", "mvk", "error", "error"),
    # syzbot's symbolized frames: an inlined function's file and line instead of its offset
    ("121-", "RIP: 0010:virtio_gpu_object_shmem_init drivers/gpu/drm/virtio/virtgpu_object.c:183 [inline]", "kernel",
     "virtio_gpu_frame", "info"),
    ("51-", "Unexpected exit reason on vcpu run: SystemEvent(2, [0])", "krun", "vcpu_exit_unexpected", "error"),
    ("53-", "reset device while it's still in active state", "krun", "device_reset_active", "info"),  # benign
    ("54-", "Vulkan0: Virtio-GPU Venus (Apple M1 Pro) (venus)", "app", "device_line", "info"),
    ("55-", "└─ virgl_render_server --worker-context-id 23", "virglrenderer", "process", "info"),
    ("56-", "response 0x1200 (command 0x208)   # 0x208", "kernel", "response_error", "error"),  # a comment after it
    ("57-", "[drm] cap set 2: id 4, max-version 0, max-size 156", "kernel", "capset", "info"),
    ("58-", "*ERROR* response 0x1203 (command 0x102)", "kernel", "response_error", "error"),
    ("59-", "*ERROR* timed out waiting for cap set 0", "kernel", "drm_error", "error"),
    ("60-", "DEBU[0012] writing ignition file", "krun", "mention", "debug"),  # podman's logrus, peeled, its level
    ("61-", "krunkit exited unexpectedly with exit code 2", "krun", "vmm_exited", "error"),
    ("62-", "Assertion failed: physical_dev->renderer_sync_fd", "app", "assertion", "error"),  # musl's assert()
    ("63-", "vkr: failed to open libvulkan", "vkr-server", "message", "error"),
    ("63-", "virtio_gpu_virgl_process_cmd: ctrl 0x10c, error 0x1200", "qemu", "cmd_error", "error"),
    ("64-", "early bail due to fatal decoder state", "vkr-server", "decoder_fatal", "error"),
    ("65-", "vkr: submit_cmd: vn_dispatch_command failed", "vkr-server", "dispatch_failed", "error"),
    ("66-", "aborting on expired ring alive status", "mesa", "ring_alive_expired", "error"),
    ("67-", "DRM native context support was not enabled", "qemu", "virgl_built_without", "error"),
    ("68-", "(HV_SUCCESS)", "text", "text", "info"),  # success is no failure
    ("68-", "get_sys_reg CNTVOFF_EL2", "qemu", "hvf_error", "error"),
    ("69-", "vkr: destroying context 4 (gst-plugin-scan)", "vkr-server", "message", "info"),
    ("70-", "driverID           = DRIVER_ID_MESA_VENUS", "vulkaninfo", "device_field", "info"),
    ("71-", "failed to allocate/map ring shmem    <--", "mesa", "ring_shmem_failed", "error"),  # an annotation after it
    ("72-", "Some(CtxDestroy) -> ErrRutabaga(InvalidContextId)", "krun", "command_error", "error"),
    ("73-", "DRM native context support was not enabled in virglrenderer", "qemu", "virgl_built_without", "error"),
    ("73-", "[drm:virtio_gpu_init] *ERROR* timed out waiting for cap set 0", "kernel", "drm_error", "error"),
    # the guest kernel in trouble, and its call traces' frames
    ("74-", "INFO: task swapper/0:1 blocked for more than 143 seconds.", "kernel", "hung_task", "error"),
    ("74-", " virtio_gpu_probe+0x22e/0x3c0 drivers/gpu/drm/virtio/virtgpu_drv.c:106", "kernel", "virtio_gpu_frame",
     "info"),
    ("74-", " virtio_gpu_queue_ctrl_sgs drivers/gpu/drm/virtio/virtgpu_vq.c:341 [inline]", "kernel", "virtio_gpu_frame",
     "info"),
    ("74-", " __schedule+0x1895/0x4b30 kernel/sched/core.c:6675", "kernel", "frame", "info"),
    ("75-", "BUG: KASAN: null-ptr-deref in", "kernel", "oops", "error"),
    ("76-", "unreferenced object 0xffff888126d8ee00 (size 128):", "kernel", "kmemleak", "warn"),
    ("76-", "virtio_gpu_fence_alloc+0x47/0xc0 [virtio_gpu]", "kernel", "virtio_gpu_frame", "info"),
    ("77-", "Oops: general protection fault", "kernel", "oops", "error"),
    ("77-", "RIP: 0010:virtqueue_get_buf_ctx_split+0x86/0x130", "kernel", "frame", "info"),
    # macOS's dyld stopping krunkit before it starts, and zsh saying so
    ("78-", "dyld[26302]: Library not loaded: /opt/homebrew/opt/libepoxy/lib/libepoxy.0.dylib", "ldso", "load_error",
     "error"),
    ("78-", "Referenced from: <57EF7625", "ldso", "referenced_from", "info"),
    ("78-", "[1]    26302 abort      /opt/homebrew/bin/krunkit -v", "app", "crashed", "error"),
    ("79-", "Library not loaded: /opt/homebrew/opt/libkrun-efi/lib/libkrun-efi.1.dylib", "ldso", "load_error", "error"),
    ("80-", "==361968==ERROR: LeakSanitizer: detected memory leaks", "app", "sanitizer", "error"),
    ("80-", "SUMMARY: AddressSanitizer: 816 byte(s) leaked", "app", "sanitizer_summary", "error"),
    ("80-", "build/qemu-system-x86_64 -drive file=debian12.qcow2", "qemu", "command_line", "info"),
    ("81-", "virtio_gpu virtio0: swiotlb buffer is full (sz: 4096 bytes)", "kernel", "virtio_gpu", "info"),
    ("81-", "Oops: Kernel access of bad area, sig: 11 [#1]", "kernel", "oops", "error"),
    ("82-", "WARNING: CPU: 0 PID: 568 at drivers/gpu/drm/virtio/virtgpu_vq.c:358", "kernel", "kernel_warning", "warn"),
    ("83-", "*ERROR* Could not reserve host visible region", "kernel", "drm_error", "error"),
    ("83-", "kernel BUG at mm/slub.c:4132!", "kernel", "oops", "error"),
    ("84-", "general protection fault, probably for non-canonical address", "kernel", "oops", "error"),
    ("85-", "watchdog: BUG: soft lockup - CPU#1 stuck for 42s!", "kernel", "oops", "error"),
    ("86-", "Oops: 0000 [#1] PREEMPT SMP PTI", "kernel", "oops", "error"),
    ("87-", "WARNING: CPU: 8 PID: 2002 at kernel/dma/debug.c:1177", "kernel", "kernel_warning", "warn"),
    ("88-", "teximage.c:839:_mesa_init_teximage_fields_ms: Assertion `base_format != -1' failed.", "app", "assertion",
     "error"),
    ("89-", 'dlopen failed: library "libxcb-keysyms.so" not found', "loader", "icd_load_failed", "warn"),
    ("89-", "vkCreateInstance: Found no drivers!", "loader", "no_drivers", "error"),
    ("91-", "vkcube: ./cube/cube.c:3598: demo_init_vk: Assertion `!err' failed.", "app", "assertion", "error"),
    ("91-", "Aborted (core dumped)", "app", "crashed", "error"),
    # set 11: the host's GL display, KVM, QEMU's devices and sandbox, libkrun without KVM
    ("128-", "No provider of eglCreateImageKHR found.", "app", "gl_missing", "error"),
    ("129-", "opengl is not available", "qemu", "no_gl_display", "error"),
    ("130-", "qemu-system-x86_64: egl: gbm_create_device failed", "qemu", "egl_failed", "error"),
    ("131-", "Failed to initialize EGL render node for SPICE GL", "qemu", "egl_failed", "error"),
    ("131-", "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny", "qemu", "option", "info"),
    ("133-", "qemu_gl_create_compile_shader: compile vertex error", "qemu", "shader_failed", "error"),
    ("135-", "'virtio-vga-gl' is not a valid device model name", "qemu", "device_missing", "error"),
    ("136-", "failed to initialize venus renderer", "qemu", "venus_init_failed", "error"),
    ("138-", "venus requires enabled blob and hostmem options", "qemu", "error", "error"),
    ("140-", "Could not access KVM kernel module: Permission denied", "qemu", "kvm_unavailable", "error"),
    ("153-", "Error creating the Kvm object: Error(2)", "krun", "kvm_unavailable", "error"),
    # set 12: virgl's GL renderer, QEMU's own assertion and its other no-GL words
    ("166-", 'add_shader_program: context error reported 1 "glxgears" Illegal shader 0', "virglrenderer",
     "gl_context_error", "error"),
    ("176-", "context 2 failed to dispatch CREATE_OBJECT: 22", "virglrenderer", "gl_dispatch_failed", "error"),
    ("178-", "surface_gl_update_texture: Assertion `gls' failed.", "qemu", "assertion", "error"),
    ("183-", "qemu-system-x86_64: OpenGL support is disabled", "qemu", "no_gl_display", "error"),
]


def _understood(path, needle, fmt, what, level):
    lines = [(text, records) for text, records in parsed(path) if needle in text]
    assert lines, f"{needle!r} not in {path.name}"
    for text, records in lines:
        assert (records[0].fmt, records[0].what, records[0].level) == (fmt, what, level), text


@pytest.mark.parametrize(("prefix", "needle", "fmt", "what", "level"), EXPECTED_EXTRA,
                         ids=[f"{e[0]}{e[3]}" for e in EXPECTED_EXTRA])
def test_the_extra_threads_lines_are_understood(prefix, needle, fmt, what, level):
    _understood(next(EXTRA.glob(prefix + "*.log")), needle, fmt, what, level)


# Benign (VENUS_FACTS.md): recognised, never above info.
BENIGN = [
    ("02-", "vkr: destroying context 3 (vkmark) with a valid instance"),
    ("02-", "vkr: destroying device with valid objects"),
    ("01-", "error: XDG_RUNTIME_DIR is invalid or not set in the environment."),
    ("16-", "panvk is not a conformant vulkan implementation"),
    ("16-", "[Loader Message] Code 0 : Layer VK_LAYER_MESA_device_select uses API version 1.3"),
    ("16-", "'DISPLAY' environment variable not set... skipping surface info"),
]


def _record_of(prefix: str, needle: str):
    (path,) = REAL.glob(f"{prefix}*.log")
    found = [records for text, records in parsed(path) if needle in text]
    assert found, f"{needle!r} not in {path.name}"
    return found[0][0]


@pytest.mark.parametrize("prefix, needle, family, kind, level", EXPECTED, ids=[e[1][:40] for e in EXPECTED])
def test_the_lines_a_developer_reads_are_understood(prefix, needle, family, kind, level):
    record = _record_of(prefix, needle)
    assert (record.fmt, record.what, record.level) == (family, kind, level), record


@pytest.mark.parametrize("prefix, needle", BENIGN, ids=[b[1][:40] for b in BENIGN])
def test_benign_lines_are_recognised_and_never_above_info(prefix, needle):
    record = _record_of(prefix, needle)
    assert record.fmt != "text" and record.level in ("debug", "info"), record


def test_the_envelope_becomes_fields():
    record = _record_of("05-", "iter at 1024")
    assert record.fields["time"] == "2025-02-18 07:08:52,277" and record.fields["before"] == "[vertex] device-local=true:"
    assert record.fields["iter"] == 1024
    record = _record_of("08-", "map_memory: err")
    assert record.fields["prog"] == "hvf" and record.fields["log_level"] == "ERROR"
    record = _record_of("02-", "invalid res_id 5")
    assert record.fields["prog"] == "virgl_render_server" and record.fields["pid"] == 1875931


def test_a_qemu_guest_console_gives_its_virtio_gpu_device_and_both_fences():
    model = fold_files([str(QEMU / "guest-serial.log")])
    (gpu,) = model.virtio_gpu.values()
    assert {"+resource_blob", "+host_visible", "+context_init"} <= set(gpu.features) and gpu.venus
    assert gpu.hostmem_size == 256 << 20
    assert len(model.runs) == 2 and [f.state for f in model.fences.values()] == ["signaled", "signaled"]


def test_a_mail_wrapped_guest_dmesg_counts_its_host_errors_and_those_the_rate_limit_hid():
    """real-threads-extra/115 (qemu-devel, blob=true without udmabuf): each "*ERROR* response" wrapped before its
    codes, after "virtio_gpu_dequeue_ctrl_func: 90 callbacks suppressed"."""
    model = fold_files([str(EXTRA / "115-qemu-blob-no-udmabuf-dmesg-mailwrapped.log")])
    (gpu,) = model.virtio_gpu.values()
    assert gpu.errors_suppressed == 90
    assert gpu.errors == {"response 0x1200 (command 0x105)": 3, "response 0x1205 (command 0x104)": 3}
    (finding,) = diagnose(model)
    assert finding.rule == "virtio-gpu-command-error" and "0x105 (TRANSFER_TO_HOST_2D)" in finding.claim


def test_hostmem_64k_gives_a_64_kib_window_and_the_ring_shmem_failure():
    model = fold_files([str(QEMU / "guest-serial-hostmem64k.log")])
    (gpu,) = model.virtio_gpu.values()
    assert gpu.hostmem_size == 64 << 10
    errors = [(n.what, n.fields.get("result")) for n in model.notable if n.level == "error" and n.fmt == "mesa"]
    assert ("ring_shmem_failed", None) in errors and ("result", "VK_ERROR_OUT_OF_HOST_MEMORY") in errors
    (finding,) = [f for f in diagnose(model) if f.rule == "ring-shmem"]
    assert "host memory window of 64 KiB" in finding.claim and finding.severity == "critical"
    assert not [f for f in diagnose(fold_files([str(QEMU / "guest-serial.log")])) if f.rule == "ring-shmem"]


UPSTREAM = DATA / "upstream-formats"  # synthetic: lines made from upstream format strings (README there)
# The one line of those with no family's marker in it: virgl_util.c's "Can't open %s" for its log file.
UPSTREAM_UNMARKED = {"Can't open /var/log/virgl.log"}


@pytest.mark.parametrize("path", sorted(UPSTREAM.glob("*.log")), ids=lambda p: p.stem)
def test_lines_from_upstream_format_strings_are_recognised(path):
    plain = [text for text, records in parsed(path) if records[0].fmt == "text" and text not in UPSTREAM_UNMARKED]
    assert plain == []


# A program logging every line at one level (Mesa's vn_log at debug, the render server at info): its words tell.
UPSTREAM_LEVELS = [
    ("mesa", "failed to open /dev/dri/renderD128", "mesa", "message", "error"),
    ("mesa", "cpu sync timed out after 2000ms; ignoring", "mesa", "message", "warn"),
    ("mesa", "not enough sync queues (max 0)", "mesa", "message", "error"),
    ("mesa", "handle->numFds is 0, expected 1", "mesa", "message", "error"),
    ("mesa", "vk xml version 1.0.0 < 1.1.0", "mesa", "vk_xml_too_old", "error"),
    ("mesa", "vn_android_gralloc_init: assertion", "app", "assertion", "error"),
    ("virglrenderer", "vkr: memfd_create failed (Too many open files)", "vkr-server", "message", "error"),
    ("virglrenderer", "vkr: vkAllocateMemory returned -2", "vkr-server", "call_result", "error"),
    ("virglrenderer", "virgl_render_server[2315]: invalid context op 9", "virglrenderer", "error", "error"),
    ("virglrenderer", "proxy: failed to create a context", "virglrenderer", "proxy_error", "error"),
    ("virglrenderer", "vkr: mem cannot support mappable blob", "vkr-server", "mem_export_failed", "error"),
    ("virglrenderer", "vkr: mem dma_buf_size 4096 < blob_size", "vkr-server", "mem_export_failed", "error"),
    ("virglrenderer", "failed to initialize vrend winsys", "virglrenderer", "init_failed", "error"),
    ("virglrenderer", "Failed to setup socket.: Address already in use", "vtest", "server_failed", "error"),
    ("virglrenderer", "vtest_send_fd Failed to send fd (-22)", "vtest", "failure", "error"),
    ("virglrenderer", "Older guest Mesa detected, fallbacking", "vtest", "protocol_fallback", "warn"),
    ("virglrenderer", "client failed: VTEST_CLIENT_ERROR_CONTEXT_FAILED", "vtest", "client_status", "error"),
    ("libkrun", "resource map doesn't fit in shm region", "krun", "shm_window_full", "error"),
    ("libkrun", "krun_devices::virtio::gpu::virtio_gpu] mapping DOES NOT FIT", "krun", "shm_window_full", "error"),
    ("libkrun", "Couldn't find or load libkrunfw", "krun", "libkrunfw_failed", "error"),
    ("libkrun", "Error opening external kernel", "krun", "message", "error"),  # libkrun's, not the kernel's
    ("libkrun", "Falling back to safe defaults", "krun", "message", "warn"),
    ("qemu", "venus requires enabled blob and hostmem options", "qemu", "error", "error"),
    ("qemu", "qemu-system-aarch64: No free slots", "qemu", "error", "error"),
    ("qemu", "Could not access HVF", "qemu", "error", "error"),
    ("qemu", "vg_virgl_process_cmd: ctrl 0x208, error 0x1200", "qemu", "cmd_error", "error"),
    ("qemu", "vg_create_mapping_iov: nr_entries is too big", "qemu", "guest_error", "error"),
    ("qemu", "hvf_vm_map paddr:", "qemu", "trace", "debug"),
    ("qemu", "virgl_cmd_resource_map_blob: resource does not exist 12", "qemu", "guest_error", "error"),
    ("kernel", "probe of virtio0 failed with error -16", "kernel", "probe_failed", "error"),
    ("crosvm", "[WARNING:devices/src/virtio/gpu/virtio_gpu.rs:938] virtio-gpu get_capset_info", "crosvm", "message",
     "warn"),
]


@pytest.mark.parametrize(("program", "needle", "fmt", "what", "level"), UPSTREAM_LEVELS,
                         ids=[f"{e[0]}-{e[3]}" for e in UPSTREAM_LEVELS])
def test_upstream_failures_are_read_at_their_level(program, needle, fmt, what, level):
    _understood(UPSTREAM / f"{program}.log", needle, fmt, what, level)
