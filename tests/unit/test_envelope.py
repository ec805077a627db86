"""Envelopes (parse/envelope.py): any line of a known family, wrapped in any envelope real logs put around
lines (stamps, journald and macOS prefixes, pids, indents, quotes, env_logger, QEMU traces, text glued in
front), parses to the same family, kind and fields as the bare line; the envelope adds only its own fields.
The bare lines are real ones from the fixtures (tests/data) and VENUS_FACTS.md's spellings."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from venustui.events import Line
from venustui.parse import Parser
from venustui.parse.envelope import peel

BARE = [
    "MESA-VIRTIO: debug: stuck in fence wait with iter at 1024",
    "MESA-VIRTIO: debug: vn_ring_submit abort on fatal",
    "MESA-VIRTIO: debug: failed to allocate/map ring shmem",
    "MESA-VIRTIO: debug: vn_CreateInstance: VK_ERROR_OUT_OF_HOST_MEMORY",
    "MESA-VIRTIO: debug: wire format version 1",
    "[VKR] vkCreateFence: fence=0x50000000005 ret=0",
    "[VKR] CreateFence: MoltenVK returned 0, fence=0x600003a2c4e0 (0x600003a2c4e0)",
    "vkr: failed to import resource: invalid res_id 9",
    "vkr: vkAllocateMemory resulted in CS error",
    "vkr: ring_submit_cmd: vn_dispatch_command failed",
    "vkr: destroying device with valid objects",
    "[mvk-error] VK_ERROR_INITIALIZATION_FAILED: could not create device",
    "[drm] Host memory window: 0xe0000000 +0x10000000",
    "[drm] features: +virgl +edid +resource_blob +host_visible",
    "[drm] cap set 2: id 4, max-version 0, max-size 160",
    "[drm:virtio_gpu_dequeue_ctrl_func [virtio_gpu]] *ERROR* response 0x1200 (command 0x209)",
    "virtio_gpu virtio0: [drm] *ERROR* response 0x1203 (command 0x10c)",
    "virtio_gpu_virgl_process_cmd: ctrl 0x209, error 0x1200",
    "virtio_gpu_fence_ctrl fence 0x13f9, type 0x204",
    "Error: ret = HV_UNSUPPORTED (0xfae9400f, at ../accel/hvf/hvf-accel-ops.c:398)",
    "WARNING: [Loader Message] Code 0 : terminator_CreateInstance: Failed to CreateInstance in ICD 1.  Skipping ICD.",
    "ERROR at ./vulkaninfo/./vulkaninfo.h:458:vkCreateInstance failed with ERROR_OUT_OF_HOST_MEMORY",
    "deviceName = Virtio-GPU Venus (Apple M4 Pro)",
    "vk::Device::createFence: ErrorOutOfHostMemory",
    "vkcube: ../src/virtio/vulkan/vn_renderer_virtgpu.c:1456: virtgpu_init_shmem_blob_mem: "
    "Assertion `gpu->capset.data.supports_blob_id_0' failed.",
    "vn_CreateDevice: VK_ERROR_INITIALIZATION_FAILED",
    "[fencetest] vkCreateFence(dev,&fci,NULL,&f)          -> 0 (t=0.478s)",
    "[fencetest] RESULT: FENCE_SIGNALED (total 0.542s)",
    "ggml_vulkan: 0 = Virtio-GPU Venus (Apple M4 Pro) (venus) | uma: 1 | fp16: 1",
    # lines as upstream prints them (tests/data/upstream-formats)
    "proxy: failed to create a context",
    "virgl_cmd_resource_map_blob: resource does not exist 12",
    "vkr: vkAllocateMemory returned -2",
    "virtio_gpu virtio0: probe with driver virtio_gpu failed with error -16",
    "NVRM: Xid (PCI:0000:01:00): 69, pid=4321, name=vkr-ring-1, Class Error: ChId 0010",
    "ERROR: [Loader Message] Code 0 : vkCreateInstance: Found no drivers!",
    "MESA: error: Opening /dev/dri/renderD128 failed: Permission denied",
    "Abort message: 'Assertion failed: mCreateDevice(mPhysicalDevice, &deviceInfo, nullptr, &mDevice)'",
    "#1  0x00007f1234567890 in vn_relax (relax_state=0x7ffd) at ../src/virtio/vulkan/vn_common.c:190",
    "error processing gpu command ResourceMapBlob: ErrUnspec",
    "EGL driver name: virtio_gpu",  # a guest's stack saying what it runs on (eglinfo, drm_info, RADV)
    # Mesa's vk_errorf() through its logger, a VkResult by number, the loader skipping a driver that failed
    "MESA: error: ../src/virtio/vulkan/vn_instance.c:123: failed to initialize renderer (VK_ERROR_INITIALIZATION_FAILED)",
    "vkCreateDevice failed (VkResult: -8)",
    "setup_loader_term_phys_devs: Call to 'vkEnumeratePhysicalDevices' in ICD /usr/lib/libvulkan_virtio.so failed "
    "with error code -3",
    "/dev/dri/renderD128: driver='virtio_gpu' date='0' desc='virtio GPU' drm 0.1.0",
    "WARNING: failed to initialize winsys (VK_ERROR_INITIALIZATION_FAILED)",
    "WARNING: [../src/asahi/vulkan/hk_physical_device.c:1147] Code 0 : failed to open device /dev/dri/renderD128 "
    "(VK_ERROR_INCOMPATIBLE_DRIVER)",
    "TU: error: ../src/freedreno/vulkan/tu_knl.cc:387: failed to open device /dev/dri/renderD128 "
    "(VK_ERROR_INCOMPATIBLE_DRIVER)",
    # a shell's report of the program's death, newlib's assert(), a QEMU command line (synthetic, labelled)
    "Segmentation fault (core dumped)",
    'assertion "ring->shared.head" failed: file "vn_ring.c", line 42, function: vn_ring_wait',
    "qemu-system-aarch64 -M virt -device virtio-gpu-gl,venus=on",
    # the host's setup failing (real lines of real-threads-extra 140, 153, 128, 171, 135, 177, 93, 95)
    "Could not access KVM kernel module: Permission denied",
    "Error creating the Kvm object: Error(2)",
    "No provider of eglCreateImageKHR found.  Requires one of:",
    "qemu-system-x86_64: egl: eglGetDisplay failed: EGL_SUCCESS",
    "qemu-system-x86_64: -device virtio-vga-gl,xres=1280,yres=800: 'virtio-vga-gl' is not a valid device model name",
    'vrend_report_buffer_error: context error reported 1 "asteroid-launch" Illegal command buffer 720905',
    "[    0.042274] Kernel panic - not syncing: Requested init /init.krun failed (error -2).",
    'Error: exec: "krunkit": executable file not found in $PATH',
]
STRUCTURED = ("mesa", "vkr", "vkr-server", "vtest", "ldso", "mvk", "step")  # parse/__init__.py: Parser._structured
GLUABLE = ("MESA-VIRTIO:", "[VKR]", "[mvk-", "[drm", "[fencetest]", "vkr: ")
ENVELOPE_FIELDS = {"time", "prog", "pid", "host", "log_level", "before", "log_file"}

MONTHS = st.sampled_from("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())
NAMES = st.from_regex(r"[a-z][a-z0-9_\-]{0,12}", fullmatch=True)
RUST_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
# What a JSON or logfmt record would escape: a payload holding it is no longer the same text inside one.
ESCAPED = set('"\\') | {chr(k) for k in range(32)}


@st.composite
def wrapped(draw, bare: str) -> str:
    d, h, m, s = draw(st.integers(1, 28)), draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    us, pid, secs = draw(st.integers(0, 999_999)), draw(st.integers(1, 4_000_000)), draw(st.integers(0, 99_999))
    date, clock, month = f"2025-{draw(st.integers(1, 12)):02d}-{d:02d}", f"{h:02d}:{m:02d}:{s:02d}", draw(MONTHS)
    prog, host = draw(NAMES), draw(NAMES)
    forms = [
        f"{date} {clock},{us // 1000:03d}: ",
        f"{date}T{clock}.{us:06d}Z ",
        f"{date}T{clock}+01:00 ",
        f"{month} {d:2d} {clock} {host} {prog}[{pid}]: ",
        f"{month} {d:2d} {clock}.{us:06d} {host} {prog}[{pid}]: ",
        f"{date}T{clock}+0100 {host} {prog}[{pid}]: ",
        f"[{secs:6d}.{us:06d}] {host} {prog}[{pid}]: ",
        f"{month} {d:2d} {clock}  {prog}[{pid}] <Debug>: ",
        f"{date} {clock}.{us:06d}-0800 0x{pid:x}  Debug  0x0  {pid}  0  {prog}: ",
        f"{date} {clock}.{us // 1000:03d} Df {prog}[{pid}:{pid:x}] ",
        f"{date} {clock}.{us // 1000:03d} {prog}[{pid}:{pid:x}] ",  # NSLog() on stderr
        # CI job logs: GitLab's stream and type after the stamp, GitHub Actions' workflow command
        f"{date}T{clock}.{us:06d}Z {pid % 256:02x}{draw(st.sampled_from(['O', 'E', 'O+', 'E+']))} ",
        f"{date}T{clock}.{us:06d}0Z ##[{draw(st.sampled_from(['error', 'warning']))}]",
        f"[{date}T{clock}Z INFO  {prog}] ",
        f"[{draw(st.sampled_from(['WARN ', 'ERROR', 'DEBUG']))} {prog}] ",
        f"<{draw(st.integers(0, 7))}>",
        f"[{secs:5d}.{us:06d}] ",
        # dmesg -T and -H
        f"[{draw(st.sampled_from(['Mon', 'Wed', 'Sun']))} {month} {d:2d} {clock} 2025] ", f"[{month}{d} {h:02d}:{m:02d}] ",
        f"[  +{secs % 100}.{us:06d}] ",
        f"{d:02d}-{d:02d} {clock}.{us // 1000:03d}  {pid}  {pid + 1} {draw(st.sampled_from('VDIWEF'))} ",  # logcat
        f"{1_700_000_000 + secs}.{us:06d} {host} {prog}[{pid}]: ",  # journalctl -o short-unix
        f"Thu {date} {clock} UTC {host} {prog}[{pid}]: ",  # journalctl -o short-full
        # journald in another locale: the month as it abbreviates it (Spanish, German, French)
        f"{draw(st.sampled_from(['dic', 'Okt', 'févr.', 'août']))} {d:2d} {clock} {host} {prog}[{pid}]: ",
        f"{prog}@{host}:~$ ", f"{host}:~# ",  # a prompt with a program's output pasted on its line
        f"PS C:\\Users\\{prog}> ", f"C:\\{host}> ",  # PowerShell's and cmd's
        f"[{secs:6d}.{us:06d} <{secs % 100:5d}.{us:06d}>] {host} {prog}[{pid}]: ",  # journalctl -o short-delta
        f"kern  :{draw(st.sampled_from(['err   ', 'warn  ', 'info  ', 'debug ']))}: ",  # dmesg --decode
        # Rust tracing's fmt: a stamp, the level padded to five, a Rust path
        f"{date}T{clock}.{us:06d}Z {draw(st.sampled_from([' WARN', 'ERROR', ' INFO']))} "
        f"{draw(RUST_NAMES)}::{draw(RUST_NAMES)}: ",
        # the same in colour, as a terminal writes it, or pasted into a web page that dropped the ESCs
        "{e}[2m{date}T{clock}.{us:06d}Z{e}[0m {e}[33m WARN{e}[0m {e}[2m{a}::{b}{e}[0m{e}[2m:{e}[0m ".format(
            e=draw(st.sampled_from(["\x1b", ""])), date=date, clock=clock, us=us, a=draw(RUST_NAMES),
            b=draw(RUST_NAMES)),
        # Chromium's logging, and glog
        f"[{pid}:{pid + 1}:{d:02d}{d:02d}/{h:02d}{m:02d}{s:02d}.{us:06d}:ERROR:{prog}.cc({secs})] ",
        f"{draw(st.sampled_from('IWEF'))}{d:02d}{d:02d} {clock}.{us:06d} {pid:6d} {prog}.cc:{secs}] ",
        # ChromeOS's syslog (Crostini): the severity in the host's place
        f"{date}T{clock}.{us:06d}Z {draw(st.sampled_from(['ERR', 'WARNING', 'INFO']))} {prog}[{pid}]: ",
        # Go's log package, a bracketed date and time, Python logging's default format
        f"{date.replace('-', '/')} {clock} ", f"[{date} {clock}.{us // 1000:03d}] ",
        f"{draw(st.sampled_from(['ERROR', 'WARNING', 'DEBUG']))}:{prog}:",
        # logrus's text for a terminal (podman, lima), a bare clock (moreutils' ts), the kernel's caller id
        f"{draw(st.sampled_from(['INFO', 'WARN', 'ERRO', 'DEBU']))}[{secs:04d}] ", f"{clock}.{us // 1000:03d} ",
        f"[{secs:5d}.{us:06d}][{draw(st.sampled_from(['T', 'C'])) + str(pid % 40000):>6}] ",
        # GLib's g_log (vhost-user-gpu, GTK programs)
        f"** ({prog}:{pid}): {draw(st.sampled_from(['WARNING', 'CRITICAL', 'DEBUG']))} **: {clock}.{us // 1000:03d}: ",
        f"{d}/{d}/25 {h}:{m:02d}\t{prog}\t",  # a log viewer's tab-separated copy (real-threads-extra/46)
        # Python logging's usual formats: a stamp, then the level (padded, bracketed) and maybe the logger's name
        f"{date} {clock},{us // 1000:03d} "
        f"{draw(st.sampled_from(['ERROR    ', 'INFO - ', '[WARNING] ', 'DEBUG: ', 'ERROR ', 'WARNING: ']))}",
        f"{date} {clock},{us // 1000:03d} - {prog} - {draw(st.sampled_from(['ERROR', 'INFO']))} - ",
    ]
    # A known program's own lines, or the structured families' (parsed before any program's rules: a program's
    # stderr carries Mesa's and the render server's lines); its rules decide the rest, by design.
    family = _parts(bare)[0]
    if family in STRUCTURED + ("virglrenderer",):
        forms += ["[virgl_render_server] ", f"virgl_render_server[{pid}]: "]
    if family in STRUCTURED + ("qemu",):  # QEMU's trace backend (PID@SECS:) names QEMU by its form alone
        forms += [f"qemu-system-aarch64[{pid}]: ", f"{pid}@{secs}.{us:06d}:"]
    layers = draw(st.lists(st.sampled_from(forms), min_size=1, max_size=2))
    if draw(st.integers(0, 4)) == 0:  # grep's file name (-r, -n, -C), first on its line
        layers = [draw(st.sampled_from([f"{prog}.log:", f"/var/log/{host}/{prog}.txt:{secs + 1}:",
                                        f"logs/{prog}.out-{secs + 1}-"]))] + layers
    text = "".join(layers) + bare
    if bare.startswith(GLUABLE) and draw(st.booleans()):
        text = draw(st.sampled_from(["[vertex] device-local=true:", "foo ", "noise: "])) + bare
    indent = draw(st.sampled_from(["", "  ", "\t", "> ", ">> ", "\r"]))
    text = indent + text
    if draw(st.booleans()):  # docker compose's service column, first on the line (not inside a record's message)
        return draw(st.sampled_from([f"{prog}-1  | ", f"{prog}_1 | "])) + text
    if not ESCAPED & set(text) and draw(st.booleans()):
        # the whole line as the message of a structured record: Go's logfmt, or JSON (journald, Docker, logrus)
        stamp = f"{date}T{clock}Z"
        # (journald, Docker and logrus write UTF-8 as it is: only quotes, backslashes and controls are escaped)
        text = draw(st.sampled_from([
            f'time="{stamp}" level=error msg="{text}" error="exit status 1"',
            f'level=warning msg="{text}"',
            json.dumps({"level": "error", "msg": text, "time": stamp}, ensure_ascii=False),
            json.dumps({"log": text + "\n", "stream": "stderr", "time": stamp}, ensure_ascii=False),
            json.dumps({"__REALTIME_TIMESTAMP": str(1_700_000_000_000_000 + us), "PRIORITY": "3", "_PID": str(pid),
                        "MESSAGE": text}, ensure_ascii=False),
            # one line of a record printed over several: journalctl -o json-pretty and -o verbose
            f'        "MESSAGE" : {json.dumps(text, ensure_ascii=False)},', f"    MESSAGE={text}",
            json.dumps({"eventMessage": text, "processID": pid, "messageType": "Default"}, ensure_ascii=False),  # macOS's ndjson
            f"{stamp} stderr F {text}",  # the CRI log format (containerd, CRI-O)
        ]))
    return text


def _parts(text: str) -> list[tuple]:
    (record,) = Parser().parse(Line("s", "file", 0, 0, text.encode(), True, 0.0, 0.0, 1))
    fields = {k: v for k, v in record.fields.items() if k not in ENVELOPE_FIELDS and k != "uptime"}
    return [record.fmt, record.what, record.level, fields]


def _kind_parser():
    """A parser's (format, kind, level) of one line at a time."""
    parser = Parser()

    def parsed(text: str) -> tuple[str, str, str]:
        (record,) = parser.parse(Line("s", "file", 0, 0, text.encode(), True, 0.0, 0.0, 1))
        return record.fmt, record.what, record.level

    return parsed


@settings(deadline=None, max_examples=600)
@given(st.data())
def test_any_envelope_parses_to_what_the_bare_line_says(data):
    bare = data.draw(st.sampled_from(BARE))
    expected = _parts(bare)
    assert expected[0] != "text", bare
    line = data.draw(wrapped(bare))
    got = _parts(line)
    if expected[1] == "message" and "message" in expected[3]:  # a free message keeps what the line says
        got[3]["message"] = expected[3]["message"]
    assert got == expected, line


def test_the_envelope_says_time_program_pid_and_level():
    envelope = peel("Nov 26 10:33:02 host virgl_render_server[1234]: vkr: destroying device with valid objects")
    assert envelope.fields == {"time": "Nov 26 10:33:02", "host": "host", "prog": "virgl_render_server", "pid": 1234}
    envelope = peel("2026-01-27 19:49:29.123456-0800 0x1a2b  Debug  0x0  38956  0  virgl_render_server: x")
    assert envelope.fields["level"] == "Debug" and envelope.fields["pid"] == 38956
    assert peel("<3>[  475.257111] x").fields == {"time": "475.257111", "level": "error"}
    assert peel("plain text").forms == ()
    # Python logging's usual formats, after a stamp only; a message's own first word is never a level
    assert peel("2024-01-01 10:00:00,123 - ramalama - ERROR - krunkit exited").fields == {
        "time": "2024-01-01 10:00:00,123", "prog": "ramalama", "level": "ERROR"}
    for line in ("2024-01-01 10:00:00,123 WARNING  x", "[2024-02-02 10:10:10] [warning] x", "10:00:00 WARNING - x",
                 "2024-01-01 10:00:00,123 WARNING: x"):
        assert peel(line).fields["level"] == ("WARNING" if "WARNING" in line else "warning"), line
    # grep's file name and line number (a log's name by its extension); a program's path is not a file's
    assert peel("logs/guest.log:12:MESA-VIRTIO: debug: x").fields == {"log_file": "logs/guest.log"}
    assert peel("/var/log/syslog:Nov 26 10:33:02 vm kernel: [drm] x").fields["log_file"] == "/var/log/syslog"
    # a wrapper's level word before an env_logger record is the wrapper's level; before a bracketed word it is the payload's
    assert peel("2025-06-10 12:00:00,123 ERROR [ERROR hvf] map_memory: err -85377021").fields["prog"] == "hvf"
    assert "level" not in peel("2025-06-10 12:00:00,123 ERROR [Loader Message] x").fields
    # a clock right after the file name is no line number (hypothesis found "a.log:10:00:00.000 …"); after one it is
    assert peel("a.log:10:00:00.000 x").fields == {"log_file": "a.log", "time": "10:00:00.000"}
    assert peel("guest.log:12:10:00:00.000 x").fields == {"log_file": "guest.log", "time": "10:00:00.000"}
    assert peel("/usr/bin/vkcube: error while loading shared libraries").forms == ()
    # a wrapper's label before an env_logger record (real-threads-extra/94), and only there
    assert peel("Linux: [2025-08-26T13:45:04Z ERROR krun] x").forms == ("label", "env-logger")
    assert peel("Note: [this] is prose").forms == ()
    # ... but the loader's own "ERROR: [Loader Message]" stays its payload
    for line in ("2024-01-01 10:00:00,123 ERROR: [Loader Message] x", "2024-01-01 10:00:00 error processing x",
                 "ERROR - x", "ERROR: x"):
        assert "level" not in peel(line).fields, line
    # and a program's catch-all line is at least as bad as the level around it
    assert _kind_parser()("10:00:00 ERROR - krunkit: vCPU thread ended") == ("krun", "message", "error")


def test_a_program_named_by_its_envelope_gives_the_family_of_its_lines():
    parsed = _kind_parser()

    assert parsed("Nov 26 10:33:02 host qemu-system-x86_64[99]: warning: host doesn't support feature") == (
        "qemu", "warning", "warn")
    assert parsed("Jan 27 19:49:29  virgl_render_server[38956] <Debug>: render_receive_request: type 3") == (
        "virglrenderer", "debug_print", "debug")
    assert parsed("[2025-06-10T12:00:00Z ERROR krun_vmm::linux::vstate] Failure during vcpu run: Bad address "
                  "(os error 14)") == ("krun", "vcpu_run_failed", "error")
    assert parsed("[2025-06-10T12:00:00Z WARN  devices::virtio::gpu::worker] something new") == ("krun", "message",
                                                                                                "warn")
    # crosvm's GPU device logs from its gpu/mod.rs (libkrun's gpu/mod.rs logs nothing): that target is crosvm's
    assert parsed("[2025-06-10T12:00:00Z WARN  devices::virtio::gpu] something new") == ("crosvm", "message", "warn")
    assert parsed("[2026-08-10T20:45:01Z WARN  krun_devices::virtio::gpu::worker] Some(CtxDestroy) -> "
                  "ErrRutabaga(InvalidContextId)") == ("krun", "command_error", "error")  # a libkrun fork's log
    assert parsed("Nov 26 10:33:02 host sshd[12]: Accepted publickey") == ("text", "text", "info")


def test_logcat_brief_style_keeps_the_tag_and_pid_in_the_payload():
    """adb logcat -v brief / -v time: D/TAG( pid): message (synthetic lines, labelled)."""
    bare = _parts("MESA-VIRTIO: debug: stuck in fence wait with iter at 1024")
    for line in ("D/MESA-VIRTIO( 1234): debug: stuck in fence wait with iter at 1024",
                 "12-01 10:00:00.123 D/MESA-VIRTIO(31337): debug: stuck in fence wait with iter at 1024"):
        assert _parts(line) == bare, line
    assert peel("12-01 10:00:00.123 E/vulkan  ( 1234): x").fields == {"time": "12-01 10:00:00.123", "level": "E"}
    assert peel("E/MESA-VIRTIO: not brief style").forms == ()


def test_more_shapes_of_the_field():
    """Shapes VENUS_FACTS.md names that the shared fixtures do not hold (synthetic lines, labelled)."""
    parsed = _kind_parser()

    assert parsed("hv_vm_map failed: HV_BAD_ARGUMENT") == ("qemu", "hvf_error", "error")
    # QEMU's older assert_hvf_ok() through error_report(): the result, not only "an error"
    assert parsed("qemu-system-aarch64: Error: HV_DENIED") == ("qemu", "hvf_error", "error")
    assert parsed("virgl_renderer_init failed: -1") == ("virglrenderer", "call_failed", "error")
    assert parsed("muvm: error: failed to get the GPU: Failed to create the virtio-gpu device") == ("krun", "error", "error")
    assert parsed("krunkit: error: failed to map the GPU's shared memory") == ("krun", "error", "error")
    assert parsed("Assertion failed: (ret == 0), function vkr_context_submit, file vkr_context.c, line 117.") == (
        "app", "assertion", "error")
    musl = _parts("Assertion failed: physical_dev->renderer_sync_fd.semaphore_importable "
                  "(../src/virtio/vulkan/vn_device.c: vn_device_fix_create_info: 331)")  # musl's assert() (Alpine)
    assert musl[:2] == ["app", "assertion"] and (musl[3]["function"], musl[3]["line"]) == (
        "vn_device_fix_create_info", "331")
    windows = _parts("Assertion failed: ring != NULL, file ../src/vn_ring.c, line 77")  # the CRT's (synthetic)
    assert windows[:2] == ["app", "assertion"] and (windows[3]["expression"], windows[3]["line"]) == ("ring != NULL", "77")
    systemd = _parts("Assertion 'fd >= 0' failed at src/basic/fd-util.c:71, function close_nointr(). Aborting.")
    assert (systemd[3]["file"], systemd[3]["function"]) == ("src/basic/fd-util.c", "close_nointr")
    # vulkan-hpp's names with a vendor suffix, and a VkResult's name cut by a mail client's wrap
    hpp = _parts("vk::Queue::presentKHR: ErrorOutOfDateKHR")
    assert (hpp[1], hpp[3]["result"], hpp[3]["code"]) == ("vk_call_failed", "VK_ERROR_OUT_OF_DATE_KHR", -1000001004)
    assert parsed("vkCreateDevice returned VK_ERROR") == ("app", "vk_error", "error")
    assert parsed("clCreateBuffer: CL_ERROR_OUT_OF_RESOURCES") == ("app", "error", "error")  # not Vulkan's: an error
    assert parsed("vn_CreateDevice: ") == ("mesa", "message", "info")
    assert parsed("render thread said: vkr: failed to import resource: invalid res_id 7") == (
        "vkr-server", "import_failed", "error")
    # a marker after another family's marker that starts nothing: the later one's line
    assert parsed("  ./qemu-system-aarch64 \\ vkr: failed to import resource: invalid res_id 5") == (
        "vkr-server", "import_failed", "error")
    # a structured family's line on a console between kernel lines keeps its family behind the kernel's stamp
    assert parsed("[  475.257111] vtest_send_fd Failed to send fd (-22)") == ("vtest", "failure", "error")
    # drm_err() puts the device before the tag; the host's answer is the same
    assert parsed("[   12.5] virtio_gpu virtio0: [drm] *ERROR* response 0x1200 (command 0x209)") == (
        "kernel", "response_error", "error")



def test_tool_listings_and_loose_lines_of_the_field():
    """Shapes seen around pasted logs: lspci -k, lsmod, dlopen errors, libkrun's C API, old Rust panics, Venus
    functions after a program's name (synthetic lines, labelled)."""
    parsed = _kind_parser()

    assert parsed("\tKernel driver in use: virtio_gpu") == ("kernel", "driver_in_use", "info")
    assert parsed("virtio_gpu             86016  2") == ("kernel", "module", "info")
    assert parsed("libkrun.so: cannot open shared object file: No such file or directory") == (
        "app", "library_missing", "error")
    assert parsed("krun_create_ctx failed: -1") == ("krun", "api_failed", "error")
    assert parsed("thread '<unnamed>' panicked at 'called `Result::unwrap()` on an `Err` value', src/main.rs:10:5") == (
        "crosvm", "panic", "error")
    assert parsed("my_app: vn_create_instance: failed") == ("mesa", "message", "error")
    # Proxmox VE's QEMU ("kvm") and its task log, QEMU's vhost-user-gpu, a driver that is not conformant (noise)
    assert parsed("kvm: -device virtio-vga-gl,venus=on: Property 'virtio-vga-gl.venus' not found") == (
        "qemu", "property_not_found", "error")
    assert parsed("kvm: -device virtio-gpu-gl: opengl is not available") == ("qemu", "no_gl_display", "error")
    assert parsed("TASK ERROR: start failed: QEMU exited with code 1") == ("qemu", "vmm_exited", "error")
    assert parsed("vhost-user-gpu: virgl_renderer_init failed") == ("qemu", "error", "error")
    assert parsed("WARNING: lavapipe is not a conformant vulkan implementation, testing use only.") == (
        "loader", "not_conformant", "info")
    assert parsed("Cannot create Vulkan instance.") == ("vulkaninfo", "instance_failed", "error")
    assert parsed("radv/amdgpu: failed to initialize device.") == ("loader", "driver_declined", "info")
    assert parsed("my_app: vn_create_instance:   failed") == ("mesa", "message", "error")  # aligned by spaces
    assert parsed("result=VK_SUCCESS, expectedVK_ERROR_DEVICE_LOST") == ("app", "vk_error", "error")  # glued
    assert parsed("ErrorOutOfPoolMemory returned by allocateDescriptorSets") == ("app", "vk_error", "error")
    assert parsed("what(): vk::Result::eErrorOutOfDeviceMemory") == ("app", "vk_error", "error")
    assert parsed("vkcube: ../src/foo.c:12: main: Assertion `x` failed.") == ("app", "assertion", "error")
    assert parsed("/usr/libexec/virgl_render_server: symbol lookup error: /usr/lib/libvirglrenderer.so.1: undefined "
                  "symbol: virgl_renderer_foo") == ("ldso", "symbol_lookup_error", "error")
    # lines a mail client wrapped (as the qemu-devel archive shows a quoted render-server log): cut, still known
    assert parsed("   virgl_render_server[1875931]: vkr: failed to import resource: invalid ") == (
        "vkr-server", "import_failed", "error")
    assert parsed("   virgl_render_server[1875931]: vkr: ring_submit_cmd: vn_dispatch_command ") == (
        "vkr-server", "ring_dispatch_failed", "error")
    assert parsed("MESA-VIRTIO: debug: aborting on ring fatal error at") == ("mesa", "ring_fatal", "error")
    # a line no rule knows that names a component is that component's mention, never more than info
    assert parsed("I am running krunkit 0.2.1 on macOS 15") == ("krun", "mention", "info")
    assert parsed("the virtio_gpu module is loaded but nothing happens") == ("kernel", "mention", "info")
    assert parsed("Jan 27 19:49:29 host app[12]: render_server exited") == ("virglrenderer", "mention", "info")
    assert parsed("nothing here names a component") == ("text", "text", "info")


def test_structured_records_give_their_message_and_fields():
    """JSON (journalctl -o json, a container's json-file log, logrus) and Go's logfmt: the message between its
    quotes is the payload, the record's other keys are the envelope's fields (synthetic lines, labelled)."""
    line = ('{"__REALTIME_TIMESTAMP":"1700000000123456","_PID":"99","SYSLOG_IDENTIFIER":"virgl_render_server",'
            '"PRIORITY":"3","MESSAGE":"vkr: vkQueueSubmit: ring seqno(5) unable to reach wait seqno(9)"}')
    wrapped = peel(line)
    assert wrapped.forms == ("json",) and line[wrapped.at:wrapped.end].startswith("vkr: vkQueueSubmit")
    assert wrapped.fields == {"time": "1700000000.123456", "pid": 99, "prog": "virgl_render_server",
                              "level": "error"}
    docker = '{"log":"[WARN  hvf] map_memory: err -85377021\\n","stream":"stderr","time":"2025-06-10T12:00:00Z"}'
    wrapped = peel(docker)
    assert wrapped.forms == ("json", "env-logger") and docker[wrapped.at:wrapped.end] == "map_memory: err -85377021"
    logfmt = 'time="2025-06-10T12:00:00Z" level=error msg="krunkit: vm failed: exit status 1" err="exit"'
    wrapped = peel(logfmt)
    assert logfmt[wrapped.at:wrapped.end] == "krunkit: vm failed: exit status 1"
    assert wrapped.fields == {"time": "2025-06-10T12:00:00Z", "level": "error"}
    # the macOS log as JSON (log show --style ndjson): its own keys
    macos = ('{"eventMessage":"vkr: vkAllocateMemory resulted in CS error","processImagePath":"/opt/homebrew/bin/'
             'virgl_render_server","processID":4242,"timestamp":"2026-01-27 19:49:29.123456-0800","messageType":"Error"}')
    wrapped = peel(macos)
    assert macos[wrapped.at:wrapped.end] == "vkr: vkAllocateMemory resulted in CS error"
    assert wrapped.fields == {"time": "2026-01-27 19:49:29.123456-0800", "level": "Error", "pid": 4242,
                              "prog": "/opt/homebrew/bin/virgl_render_server"}
    parsed = _kind_parser()
    assert parsed(macos) == ("vkr-server", "cs_error", "error")
    assert parsed(docker) == ("krun", "hvf_map_error", "error")
    assert parsed(logfmt) == ("krun", "error", "error")
    # a line no rule knows that names a component is as bad as its envelope says
    assert parsed("time=2025-06-10T12:00:00Z level=WARN msg=MESA-VIRTIO") == ("mesa", "mention", "warn")
    # not a record: left as it is, whatever its nesting
    assert peel('{"a":').forms == () and peel("[" * 100_000).forms == ()
    assert peel('{"a":' * 50_000 + "1" + "}" * 50_000).forms == ()
    assert peel('{"msg": 3}').forms == ()
    # values no clock or level gives are left out, never an error
    huge = peel('{"msg":"x","ts":1' + "0" * 400 + ',"PRIORITY":"99","_PID":"x"}')
    assert huge.forms == ("json",) and huge.fields == {"level": "debug"}
    assert _parts('{"msg":"MESA-VIRTIO: debug: stuck in fence wait with iter at 1024","time":' + "9" * 4000 + "}")


def test_glib_and_qemu_trace_lines_are_the_program_s():
    """GLib's g_log names its program and level; QEMU's trace backend is QEMU's (synthetic lines, labelled)."""
    assert peel("** (vhost-user-gpu:4242): CRITICAL **: 12:34:56.789: x").fields == {
        "prog": "vhost-user-gpu", "pid": 4242, "level": "CRITICAL", "time": "12:34:56.789"}
    parsed = _kind_parser()
    assert parsed("** (vhost-user-gpu:4242): WARNING **: 12:34:56.789: vg_virgl_process_cmd: ctrl 0x208, error "
                  "0x1200") == ("qemu", "cmd_error", "error")
    # the same with QEMU's prefix, and UTM's QEMU (a library named qemu-aarch64-softmmu)
    for program in ("qemu-system-aarch64", "qemu-aarch64-softmmu"):
        assert parsed(f"{program}: virtio_gpu_virgl_process_cmd: ctrl 0x207, error 0x1200") == ("qemu", "cmd_error", "error")
    assert parsed("qemu-aarch64-softmmu: -device virtio-gpu-gl-pci: failed to init") == ("qemu", "error", "error")
    utm = _parts('Error Domain=com.utmapp.UTM Code=-1 "QEMU exited from an error: qemu-aarch64-softmmu: failed to '
                 'initialize vkr" UserInfo={}')  # UTM's alert (synthetic, in its shape)
    assert utm[:2] == ["qemu", "vmm_exited"] and utm[3]["message"] == "qemu-aarch64-softmmu: failed to initialize vkr"
    assert parsed("12345@1700000000.123456:hvf_vm_map paddr:0x8000000000 size:0x400000 vaddr:0x11c800000") == (
        "qemu", "trace", "debug")
    assert parsed("12345@1700000000.123456:some_other_event x=1") == ("qemu", "message", "info")


def test_chromeos_syslog_and_crosvm_s_source_tag():
    """Crostini's /var/log/messages: ISO time, severity, program[pid]; crosvm's [file.rs:line] behind it (synthetic
    lines, labelled, in ChromeOS's format)."""
    line = ("2024-03-01T10:00:00.123456Z ERR crosvm[1234]: [devices/src/virtio/gpu/mod.rs:1557] error processing "
            "gpu command ResourceMapBlob: ErrUnspec")
    assert peel(line).forms == ("syslog", "crosvm-source")
    assert peel(line).fields["level"] == "ERR" and "host" not in peel(line).fields
    assert _kind_parser()(line) == ("crosvm", "command_error", "error")
    # any syslog template with a level word in the host's place, after any stamp: the level, never a host
    for stamped in ("Nov 26 10:33:02 INFO crosvm[12]: x", "[  475.257111] ERROR crosvm[12]: x",
                    "Nov 26 10:33:02 WARNING crosvm[12]: x"):
        assert "host" not in peel(stamped).fields and peel(stamped).fields["prog"] == "crosvm", stamped


def test_the_vulkan_loader_s_own_log():
    """VK_LOADER_DEBUG's padded level and tags (the loader's log.c); the lines are the loader's (synthetic,
    labelled, in its format)."""
    assert peel("WARNING | DRIVER: terminator_CreateInstance: x").fields == {"level": "WARNING",
                                                                             "prog": "vulkan-loader"}
    assert peel("WARNING: failed to initialize winsys").forms == ()  # one space: another program's warning
    parsed = _kind_parser()
    assert parsed('DRIVER:           Found ICD manifest file /usr/share/vulkan/icd.d/virtio_icd.x86_64.json, '
                  'version "1.0.0"') == ("loader", "icd_manifest", "info")
    assert parsed('INFO:             Using "Virtio-GPU Venus (NVIDIA GeForce RTX 4090)" with driver: '
                  '"/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so"') == ("loader", "device_driver", "info")
    assert parsed("WARNING | DRIVER: terminator_CreateInstance: Failed to CreateInstance in ICD 1.  Skipping ICD.") == (
        "loader", "icd_skipped", "warn")
    assert parsed("DRIVER:           Requested driver /usr/lib/i386-linux-gnu/libvulkan_virtio.so was wrong bit-type. "
                  "Ignoring this JSON") == ("loader", "icd_wrong_bitness", "warn")
    # Vulkan-Loader issue 979 (a real paste): a 32-bit driver's manifest, and a manifest whose library lacks Vulkan
    assert parsed("ERROR: /usr/lib/i386-linux-gnu/libvulkan_radeon.so: wrong ELF class: ELFCLASS32") == (
        "loader", "icd_wrong_bitness", "warn")
    assert parsed("ERROR: [Loader Message] Code 0 : loader_scanned_icd_add: Could not get 'vkCreateInstance' via "
                  "'vk_icdGetInstanceProcAddr' for ICD libGLX_nvidia.so.0") == ("loader", "icd_unusable", "warn")
    # real-threads-extra/70 (radv declining beside Venus): which driver failed which call, and its VkResult
    failed = _parts("ERROR: [Loader Message] Code 0 : setup_loader_term_phys_devs: Call to 'vkEnumeratePhysicalDevices' "
                    "in ICD /nix/store/dqdf-mesa-26.1.8/lib/libvulkan_radeon.so failed with error code -3")
    assert failed[:2] == ["loader", "icd_call_failed"] and (failed[3]["library"], failed[3]["result"]) == (
        "/nix/store/dqdf-mesa-26.1.8/lib/libvulkan_radeon.so", "VK_ERROR_INITIALIZATION_FAILED")
    assert _parts("WARNING: [Loader Message] Code 0 : Layer VK_LAYER_MESA_device_select uses API version 1.3")[3][
        "code"] == "0"  # the loader's message code is no VkResult


def test_a_vulkan_error_by_number_or_from_mesa_s_vk_error():
    """vercel-labs/vgpu issue 263 (a real paste: PowerVR's vk_errorf() through a debug callback, the loader's message)
    and gamescope's numeric VkResult (quoted in a gitcode.com post); Mesa's logger form is synthetic, labelled."""
    pvr = _parts("Warning: ../src/imagination/vulkan/pvr_instance.c:92: Failed to enumerate drm devices (errno 2: No "
                 "such file or directory) (VK_ERROR_INITIALIZATION_FAILED)")
    assert pvr[:2] == ["app", "vk_error"] and pvr[3]["file"].endswith("pvr_instance.c") and pvr[3]["line"] == "92"
    assert pvr[3]["message"] == "Failed to enumerate drm devices (errno 2: No such file or directory)"
    venus = _parts("MESA: error: ../src/virtio/vulkan/vn_device.c:456: VK_ERROR_OUT_OF_HOST_MEMORY")
    assert venus[:2] == ["app", "vk_error"] and (venus[3]["file"], venus[3]["result"], venus[3]["code"]) == (
        "../src/virtio/vulkan/vn_device.c", "VK_ERROR_OUT_OF_HOST_MEMORY", -1)
    messenger = _parts("ERROR: [../src/virtio/vulkan/vn_device.c:456] Code 0 : vn_CreateDevice failed "
                       "(VK_ERROR_OUT_OF_HOST_MEMORY)")  # vulkaninfo's debug messenger
    assert messenger[:2] == ["app", "vk_error"] and (messenger[3]["line"], messenger[3]["message"]) == (
        "456", "vn_CreateDevice failed")
    moltenvk = _parts("[mvk-error] VK_ERROR_FEATURE_NOT_PRESENT: vkCreateDevice(): Requested physical device feature "
                      "specified by the 1st flag in VkPhysicalDeviceFeatures is not available on this device.")
    assert moltenvk[:2] == ["mvk", "error"] and (moltenvk[3]["result"], moltenvk[3]["code"]) == (
        "VK_ERROR_FEATURE_NOT_PRESENT", -8)
    server = _parts("vkr: failed to create device: VK_ERROR_FEATURE_NOT_PRESENT")
    assert server[:3] == ["vkr-server", "message", "error"] and server[3]["result"] == "VK_ERROR_FEATURE_NOT_PRESENT"
    assert _parts("vkr: physical device 0 lacks VK_EXT_external_memory_dma_buf")[2] == "error"
    gamescope = _parts("[gamescope] [Error] vulkan: vkCreateDevice failed (VkResult: -8)")
    assert gamescope[:2] == ["app", "vk_call_failed"] and (gamescope[3]["call"], gamescope[3]["result"]) == (
        "vkCreateDevice", "VK_ERROR_FEATURE_NOT_PRESENT")
    for line, result in (("vkQueueSubmit returned -4", "VK_ERROR_DEVICE_LOST"),
                         ("vkWaitForFences: VkResult = -4", "VK_ERROR_DEVICE_LOST"),
                         ("ERROR: vkCreateSwapchainKHR ret=-1000001004", "VK_ERROR_OUT_OF_DATE_KHR"),
                         ("vkCreateInstance failed (result -9)", "VK_ERROR_INCOMPATIBLE_DRIVER")):
        assert _parts(line)[3]["result"] == result, line
    assert _parts("vkAllocateMemory failed: errno -12")[:2] == ["text", "text"]  # an errno is no VkResult
    for line, result in (("vkEnumeratePhysicalDevices: result = -3", "VK_ERROR_INITIALIZATION_FAILED"),
                         ("vkQueuePresentKHR result: -1000001004", "VK_ERROR_OUT_OF_DATE_KHR"),
                         ("vkWaitForFences ret -2", "VK_ERROR_OUT_OF_DEVICE_MEMORY")):
        assert _parts(line)[3]["result"] == result, line
    # another number on a line that names a call is not its VkResult: an ioctl's errno, a count, a decimal, a game
    for line in ("vkAllocateMemory: DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB ret=-12",
                 "vkQueueSubmit: sync_file merge returned -22 (EINVAL)", "vkQuake exited with code -11",
                 "vkCreateGraphicsPipelines: 12 pipelines, code -1 cache misses", "vkFoo result -1.5",
                 "vkQueueSubmit returned -22 (EINVAL)"):
        assert _parts(line)[:2] == ["text", "text"], line


def test_vkcube_s_no_driver_and_vulkan_hpp_s_uncaught_exception():
    """vkcube's own words when no driver gives a device (cube.c's ERR_EXIT) and the C++ runtime naming vulkan-hpp's
    exception (synthetic, labelled, in their formats)."""
    assert _parts("Cannot find a compatible Vulkan installable client driver (ICD).")[:2] == ["app", "no_devices"]
    assert _parts("vkEnumeratePhysicalDevices reported zero accessible devices.")[:2] == ["app", "no_devices"]
    thrown = _parts("terminate called after throwing an instance of 'vk::OutOfDateKHRError'")
    assert thrown[:2] == ["app", "vk_error"] and thrown[3]["result"] == "VK_ERROR_OUT_OF_DATE_KHR"
    assert _parts("terminate called after throwing an instance of 'vk::SystemError'")[:2] == ["text", "text"]
    assert _parts("terminate called after throwing an instance of 'vk::LogicError'")[:2] == ["text", "text"]
    assert _parts("terminate called after throwing an instance of 'ParseError'")[:2] == ["text", "text"]


def test_android_s_crash_and_loader_lines():
    """bionic's line for a process killed by a signal and Android's Vulkan loader without its HAL, in logcat's
    threadtime form (their format strings, filled: synthetic, labelled)."""
    crash = _parts("05-12 10:00:00.123  1234  1250 F libc    : Fatal signal 6 (SIGABRT), code -1 (SI_QUEUE) in tid "
                   "1250 (RenderThread), pid 1234 (surfaceflinger)")
    assert crash[:3] == ["app", "fatal_signal", "error"] and (crash[3]["name"], crash[3]["process"]) == (
        "SIGABRT", "surfaceflinger")
    hal = _parts("05-12 10:00:00.123  1234  1250 E vulkan  : failed to load vulkan hal: No such file or directory (-2)")
    assert hal[:3] == ["loader", "hal_unavailable", "error"] and hal[3]["errno"] == "-2"
    # gdb's frame in Venus, a sanitizer's and Valgrind's (their formats, filled)
    gdb = _parts("#4  0x00007ffff7a8 in vn_relax (iter=...) at ../src/virtio/vulkan/vn_common.c:150")
    asan = _parts("    #0 0x7f3a2b in vn_ring_submit ../src/virtio/vulkan/vn_ring.c:123:5")
    valgrind = _parts("==4242==    by 0x4C2A1B: vn_relax (in /usr/lib/x86_64-linux-gnu/libvulkan_virtio.so)")
    assert gdb[:2] == asan[:2] == valgrind[:2] == ["app", "venus_frame"]
    assert _parts("==4242==    by 0x4C2A1B: main (app.c:5)")[0] == "text"
    assert (asan[3]["function"], asan[3]["where"], asan[3]["line"]) == ("vn_ring_submit", "../src/virtio/vulkan/vn_ring.c",
                                                                         "123")


def test_a_shell_s_crash_report_newlib_s_assert_and_a_whole_qemu_command_line():
    """What a terminal shows when the program died (bash's, zsh's and fish's words), newlib's assert(), and a QEMU
    command line pasted without its prompt (their format strings, filled: synthetic, labelled)."""
    for line, signal, process in (("Segmentation fault (core dumped)", "SIGSEGV", None),
                                  ("Aborted", "SIGABRT", None),
                                  ("./run.sh: line 3:  1234 Aborted                 (core dumped) vkcube --c 10",
                                   "SIGABRT", "vkcube --c 10"),
                                  ("zsh: segmentation fault (core dumped)  vkcube", "SIGSEGV", "vkcube"),
                                  ("zsh: abort      ./vkmark", "SIGABRT", "./vkmark"),
                                  ("fish: Job 1, 'vkcube' terminated by signal SIGBUS (Misaligned address error)",
                                   "SIGBUS", "vkcube"),
                                  ("Abort trap: 6", "SIGABRT", None),  # bash on macOS
                                  ("[1]+  Killed                  qemu-system-x86_64 -M q35", "SIGKILL",
                                   "qemu-system-x86_64 -M q35"),
                                  ("[1]    26302 abort      /opt/homebrew/bin/krunkit -v", "SIGABRT",
                                   "/opt/homebrew/bin/krunkit -v"),
                                  ("Aborted                    ./vkcube_anim", "SIGABRT", "./vkcube_anim")):
        crash = _parts(line)
        assert crash[:3] == ["app", "crashed", "error"], line
        (record,) = Parser().parse(Line("s", "file", 0, 0, line.encode(), True, 0.0, 0.0, 1))
        assert (record.fields["name"], record.fields.get("prog")) == (signal, process), line
    for prose in ("Aborted by user request", "Aborted  at step 3", "[12] killed by a bear",
                  "BUG: fix crash when virgl is disabled (#123)", "Oops: typo in README"):
        assert _parts(prose)[:2] == ["text", "text"], prose
    wine = _parts("004c:err:vulkan:init_physical_devices Failed to enumerate physical devices, res -3")
    assert wine[:3] == ["app", "wine_error", "error"] and wine[3]["channel"] == "vulkan"
    oom = _parts("[ 1234.567890] Out of memory: Killed process 4321 (qemu-system-x86) total-vm:16777216kB")
    assert oom[:3] == ["kernel", "oom_killed", "error"] and oom[3]["crashed_pid"] == "4321"
    newlib = _parts('assertion "ring->shared.head" failed: file "vn_ring.c", line 42, function: vn_ring_wait')
    assert newlib[:3] == ["app", "assertion", "error"]
    assert (newlib[3]["expression"], newlib[3]["file"], newlib[3]["line"], newlib[3]["function"]) == (
        "ring->shared.head", "vn_ring.c", "42", "vn_ring_wait")
    command = _parts("/usr/bin/qemu-system-aarch64 -M virt -device virtio-gpu-gl,venus=on,blob=true \\")
    assert command[:3] == ["qemu", "command_line", "info"]
    assert command[3]["arguments"] == "-M virt -device virtio-gpu-gl,venus=on,blob=true"


def test_loggers_that_tag_lines_with_a_source_file_or_a_rust_path():
    """Rust tracing, Chromium's logging, glog, NSLog (synthetic lines, labelled)."""
    assert peel("2026-01-27 19:49:29.123 krunkit[1234:5678] [mvk-error] x").fields == {
        "time": "2026-01-27 19:49:29.123", "prog": "krunkit", "pid": 1234}
    assert peel("2025-06-10T12:00:00.123456Z  WARN krun_vmm::builder: failed to map").fields == {
        "time": "2025-06-10T12:00:00.123456Z", "level": "WARN", "prog": "krun_vmm::builder"}
    assert peel("[1234:1250:1126/100000.123456:ERROR:vulkan_instance.cc(129)] x").fields == {
        "time": "1126/100000.123456", "level": "ERROR", "prog": "vulkan_instance.cc"}
    assert peel("E1126 10:00:00.123456  1234 virtio_gpu.cc:100] x").fields == {
        "time": "1126 10:00:00.123456", "level": "E", "prog": "virtio_gpu.cc", "pid": 1234}
    prose = peel("2025-06-10T12:00:00Z ERROR something: prose, not a Rust path")  # the level, but no program
    assert prose.forms == ("timestamp", "stamped-level-word") and "prog" not in prose.fields
    # a one-word target a family knows: the level is the level, not a syslog host named ERROR
    assert peel("2025-06-10T12:00:00.123Z ERROR krun_display: x").fields == {
        "time": "2025-06-10T12:00:00.123Z", "level": "ERROR", "prog": "krun_display"}
    parsed = _kind_parser()
    assert parsed("2025-06-10T12:00:00.123Z ERROR krun_devices::virtio::gpu::virtio_gpu: virtio_gpu ctrl failed") == (
        "krun", "message", "error")
    assert parsed("[1234:1250:1126/100000.123456:ERROR:vulkan_instance.cc(129)] vkCreateInstance() failed: "
                  "VK_ERROR_INCOMPATIBLE_DRIVER") == ("app", "vk_error", "error")
    # a line a logger tags with its source file names a component there too, and is never a test's step
    assert parsed("E1126 10:00:00.123456  1234 virtio_gpu.cc:100] ctrl failed") == ("kernel", "mention", "error")


def test_a_vmm_line_shaped_like_a_step_is_the_vmm_s():
    """libkrun's "[WARN  hvf] map_memory failed" is not a guest program's "submit failed" step, and its
    Hypervisor.framework results are its own, not QEMU's (synthetic lines, labelled)."""
    parsed = _kind_parser()
    assert parsed("[2025-06-10T12:00:00Z WARN  hvf] map_memory failed") == ("krun", "message", "warn")
    assert parsed("[2025-06-10T12:00:00Z ERROR hvf] hv_vm_map: HV_BAD_ARGUMENT") == ("krun", "hvf_error", "error")
    # hv_return_t's success, and Hypervisor.framework's other constants, are no error (a real HVF test's output)
    assert parsed("[control] hv_vm_create -> 0x0 (HV_SUCCESS)")[2] != "error"
    assert parsed("hv_vm_map(0x1000, HV_MEMORY_READ | HV_MEMORY_WRITE)")[2] != "error"
    assert parsed("Nov 26 10:33:02 host fencetest[12]: submit failed") == ("step", "progress", "error")
    assert parsed("submit failed") == ("step", "progress", "error")


def test_the_guest_console_in_a_vmm_s_output_is_the_kernel_s():
    """A VMM prints its guest's console (krunkit, muvm, QEMU -serial stdio): behind the VMM's journald prefix, a
    line behind a kernel stamp is the guest kernel's, while the VMM's own lines stay its own (synthetic lines,
    labelled)."""
    parsed = _kind_parser()
    assert parsed("Jun 10 12:00:00 mac krunkit[4242]: [    0.512345] [drm] features: +virgl +edid +resource_blob "
                  "+host_visible") == ("kernel", "features", "info")
    assert parsed("krunkit[4242]: [    1.5][    T1] virtio_gpu virtio0: probe with driver virtio_gpu failed with "
                  "error -16") == ("kernel", "probe_failed", "error")
    assert parsed("krunkit[4242]: virtio_gpu: GET_shm_region")[0] == "krun"


def test_a_kernel_line_inside_other_layers_reads_as_the_bare_line():
    """A dmesg line indented, quoted, behind a container's prefix or a wrapper's stamp and level is the kernel's, as
    bare (real lines from tests/data/real-threads-extra 77 and 76), catch-alls and frames included."""
    parser = Parser()

    def records(text: str) -> list[tuple]:
        return [(fmt, what, {k: v for k, v in fields.items() if k not in ("time", "log_level")})
                for fmt, what, _, _, fields, *_ in parser.parts("paste", "file", text.encode())]

    for bare in ("[    0.870588] Workqueue: events virtio_gpu_dequeue_ctrl_func",
                 "[    0.683420] [drm] features: +virgl +edid +resource_blob +host_visible",
                 "<4>[    0.870588] Workqueue: events virtio_gpu_dequeue_ctrl_func",
                 "[<000000005ad33e27>] drm_ioctl+0x399/0x6b0 [drm]"):
        for wrapper in ("    ", "> ", "app-1  | ", "2025-06-10 12:00:00,123 ERROR "):
            assert records(wrapper + bare) == records(bare), wrapper + bare
    assert records("  [    0.870588] Workqueue: events virtio_gpu_dequeue_ctrl_func")[0][:2] == ("kernel", "message")


JSON_KEYS = st.sampled_from(["MESSAGE", "msg", "message", "log", "time", "ts", "timestamp", "__REALTIME_TIMESTAMP",
                             "level", "PRIORITY", "severity", "_PID", "pid", "_COMM", "name", "logger", "other"])
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=10)


@settings(deadline=None, max_examples=300)
@given(st.dictionaries(JSON_KEYS, JSON_VALUES, max_size=6), st.text(max_size=20), st.booleans())
def test_any_json_record_is_read_or_left_as_it_is(record, tail, ascii_only):
    """Whatever a JSON record holds (numbers past any clock, nesting, non-strings where strings go), the envelope,
    the log time and the parser answer without an error."""
    from venustui.logtime import stamp

    line = json.dumps(record, ensure_ascii=ascii_only) + tail
    wrapped = peel(line)
    assert wrapped.end is None or wrapped.at <= wrapped.end <= len(line)
    stamp(line)
    assert Parser().parse(Line("s", "file", 0, 0, line.encode(), True, 0.0, 0.0, 1))
