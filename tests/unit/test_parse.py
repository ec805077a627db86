"""Each format's rules on real captured lines (lab fixtures) and labelled synthetic lines."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from venustui.config import UserRule
from venustui.events import Line
from venustui.parse import Parser, vkresult
from venustui.parse.text import decode, visible
from venustui.parse.vkresult import result_from_value

from ..conftest import DATA, SEED


def line(data: bytes, source: str = "t", stream: str = "file") -> Line:
    return Line(source, stream, 0, 0, data, True, 0.0, 0.0)


def parse_one(data: bytes, parser: Parser | None = None):
    records = (parser or Parser()).parse(line(data))
    assert len(records) == 1
    return records[0]


def test_vkresult_names_come_from_the_headers_table():
    assert vkresult.name_of(1) == "VK_NOT_READY"
    assert vkresult.name_of(2) == "VK_TIMEOUT"
    assert vkresult.code_of("VK_ERROR_LAYER_NOT_PRESENT") == -6
    assert vkresult.code_of("VkErrorInitializationFailed") == -3
    assert all(code < 0 for code, name in vkresult.table().items() if name.startswith("VK_ERROR_"))
    # where the `vulkan` package disagreed with vulkan_core.h, the header's values
    assert vkresult.code_of("VK_ERROR_NOT_PERMITTED_KHR") == -1000174001
    assert vkresult.name_of(1000482000) == "VK_INCOMPATIBLE_SHADER_BINARY_EXT"
    assert vkresult.name_of(-12345) == "VkResult(-12345)"


def test_step_values_as_tests_print_them():
    assert result_from_value("0  (VK_SUCCESS)") == ("VK_SUCCESS", 0)
    assert result_from_value("1") == ("VK_NOT_READY", 1)
    assert result_from_value("None") == ("VK_SUCCESS", 0)
    assert result_from_value("NOT_READY") == ("VK_NOT_READY", 1)
    assert result_from_value("VkTimeout") == ("VK_TIMEOUT", 2)


def test_seed_vkr_prints():
    rec = parse_one(b"[VKR] CreateFence: MoltenVK returned 0, fence=0x50000000005 (0x50000000005)")
    assert (rec.fmt, rec.fields["fn"], rec.fields["result"], rec.fields["fence"]) == \
        ("vkr", "CreateFence", "VK_SUCCESS", "0x50000000005")
    assert rec.handles == (0x50000000005,)
    rec = parse_one(b"[VKR] vkGetFenceStatus: ret=1")
    assert rec.fields["fn"] == "GetFenceStatus" and rec.fields["result"] == "VK_NOT_READY"


def test_vn_env_block_and_masks(lab_fixture):
    parser = Parser()
    out = []
    for raw in (lab_fixture / "guest-fence-no_fence_feedback.log").read_bytes().splitlines():
        out += parser.parse(line(raw))
    fields = [r.fields for r in out if r.what == "vn_env_field"]
    assert fields[0]["key"] == "debug" and fields[0]["names"] == ["init", "result", "vtest"]
    assert fields[1]["key"] == "perf" and fields[1]["names"] == ["no_fence_feedback"]
    # a tab line that does not follow vn_env is plain text
    assert parser.parse(line(b"\tperf = 0x10"))[0].fmt == "text"


def test_masks_by_mesa_version():
    old = Parser(mesa_version="24.0")
    rec_old = [old.parse(line(b"MESA-VIRTIO: debug: vn_env is as below:")),
               old.parse(line(b"\tperf = 0x80"))][1][0]
    assert rec_old.fields["names"] == ["no_timeline_sem_feedback"]
    new = Parser(mesa_version="25.0")
    new.parse(line(b"MESA-VIRTIO: debug: vn_env is as below:"))
    assert new.parse(line(b"\tperf = 0x80"))[0].fields["names"] == ["no_semaphore_feedback"]
    gone = Parser(mesa_version="26.2")
    gone.parse(line(b"MESA-VIRTIO: debug: vn_env is as below:"))
    assert gone.parse(line(b"\tperf = 0x10"))[0].fields["names"] == ["bit4"]


def test_mesa_messages():
    cases = {
        b"MESA-VIRTIO: debug: stuck in fence wait with iter at 1024": ("stuck_wait", {"reason": "fence", "iter": 1024}),
        b"MESA-VIRTIO: stuck in ring seqno wait with iter at 4096": ("stuck_wait", {"reason": "ring seqno"}),
        b"MESA-VIRTIO: debug: aborting on expired ring alive status at iter 16384": ("ring_alive_expired", {"iter": 16384}),
        b"MESA-VIRTIO: debug: aborting on ring fatal error at iter 1024": ("ring_fatal", {}),
        b"MESA-VIRTIO: debug: wire format version 0 != 1": ("wire_format_mismatch", {"guest": 0, "host": 1}),
        b"MESA-VIRTIO: debug: lost connection to rendering server on 5 read -1 104":
            ("lost_connection", {"op": "read", "errno_name": "ECONNRESET"}),
        b"MESA-VIRTIO: debug: vn_CreateInstance: VK_ERROR_LAYER_NOT_PRESENT": ("result", {"code": -6}),
        b"MESA-VIRTIO: debug: failed to connect to /tmp/s: No such file or directory": ("connect_failed", {}),
    }
    for raw, (what, expected) in cases.items():
        rec = parse_one(raw)
        assert rec.fmt == "mesa" and rec.what == what, raw
        for key, value in expected.items():
            assert rec.fields[key] == value, (raw, key)


def test_render_server_lines(lab_fixture):
    rec = parse_one(b"virgl_render_server[13268]: vkr: destroying context 1 (probe) with a valid instance")
    assert rec.what == "context_destroyed_live" and rec.fields["pid"] == 13268 and rec.fields["ctx"] == 1
    rec = parse_one(b"virgl_render_server[7]: vkr: vkQueueSubmit: ring seqno(1024) unable to reach wait seqno(2048)")
    assert rec.what == "ring_seqno_unreachable" and (rec.fields["seqno"], rec.fields["wait"]) == (1024, 2048)
    raw = (b"virgl_render_server[7]: vkr: Validation Error: [ VUID-vkQueueSubmit-fence-00063 ] Object 0: "
           b"handle = 0x50000000005, type = VK_OBJECT_TYPE_FENCE; | MessageID = 0xba01bbb4 | fence in use")
    rec = parse_one(raw)
    assert rec.what == "validation" and rec.fields["objects"] == [(0x50000000005, "VK_OBJECT_TYPE_FENCE")]
    assert rec.fields["vuid"] == "VUID-vkQueueSubmit-fence-00063"
    assert rec.handles == (0x50000000005,)  # the MessageID is not a handle


def test_render_server_messages_without_newlines_are_split():
    records = Parser().parse(line(b"vkr: destroying device with valid objects vkr: mem is not exportable"))
    assert [r.what for r in records] == ["device_destroyed_live", "mem_export_failed"]


def test_vtest_and_loader_lines(lab_fixture):
    parser = Parser()
    records = [r for raw in (lab_fixture / "host.log").read_bytes().splitlines() for r in parser.parse(line(raw))]
    whats = [r.what for r in records]
    assert whats.count("call_failed") == 2 and whats.count("version_not_found") == 4
    failed = next(r for r in records if r.what == "call_failed")
    assert failed.fields["errno"] == "EINVAL" and failed.fields["ret"] == -22
    assert failed.fields["callee"] == "virgl_renderer_resource_export_blob"
    statuses = [r.fields["status"] for r in records if r.what == "client_status"]
    assert "VTEST_CLIENT_ERROR_COMMAND_DISPATCH" in statuses and "VTEST_CLIENT_DISCONNECTED" in statuses
    assert all(r.fmt != "text" for r in records)


def test_moltenvk_kernel_and_steps():
    assert parse_one(b"[mvk-error] VK_ERROR_DEVICE_LOST: fence wait").level == "error"
    assert parse_one(b"[mvk-trace] vkQueueSubmit()").fmt == "mvk"
    rec = parse_one(b"[   12.345678] [drm:virtio_gpu_dequeue_ctrl_func] *ERROR* response 0x1203 (command 0x10c)")
    assert rec.fmt == "kernel" and rec.level == "error" and rec.fields["uptime"] == 12.345678
    steps = [parse_one(raw) for raw in (SEED / "guest.log").read_bytes().splitlines()[:8]]
    assert [s.fields["role"] for s in steps] == ["instance", "physdev", "device", "queue", "fence", "submit", "status", "wait"]
    assert [s.fields["result"] for s in steps[5:]] == ["VK_SUCCESS", "VK_NOT_READY", "VK_TIMEOUT"]


def test_user_rules_come_first():
    rule = UserRule("mine", re.compile(r"^\[VKR\] (?P<fn>\w+): custom (?P<n>\d+)"), "warn")
    rec = Parser([rule]).parse(line(b"[VKR] Foo: custom 42"))[0]
    assert (rec.fmt, rec.level, rec.fields) == ("user:mine", "warn", {"fn": "Foo", "n": "42"})


def test_hostile_text_is_neither_markup_nor_escapes():
    rec = parse_one(b"[bold]x[/] [/] \x1b[31mred\x1b[0m \x1b]0;title\x07 done")
    assert rec.text == "[bold]x[/] [/] red  done"
    assert visible("a\x00b\x07c") == "a\\0b\\x07c"
    assert decode(b"ok\r") == "ok"
    assert decode(b"\xff\xfe") == "\ufffd\ufffd"
    # colour codes that lost their ESC go, a bare "[m" reset too; MoltenVK's "[mvk-error]" is a word and stays
    assert decode(b"[1m[31mERROR[m x[0m [mvk-error] VK_ERROR_X: y") == "ERROR x [mvk-error] VK_ERROR_X: y"


def test_a_web_page_s_spaces_and_invisibles_read_as_the_log_wrote_them():
    """Copied from a rendered page (synthetic, labelled): no-break spaces, a narrow one, a byte-order mark."""
    plain = parse_one(b"MESA-VIRTIO: debug: stuck in fence wait with iter at 1024")
    copied = parse_one("\ufeffMESA-VIRTIO:\u00a0debug:\u202fstuck in fence wait with iter\u00a0at 1024".encode())
    assert (copied.fmt, copied.what, copied.fields) == (plain.fmt, plain.what, plain.fields) == (
        "mesa", "stuck_wait", {"reason": "fence", "iter": 1024, "message": "stuck in fence wait with iter at 1024"})
    assert decode("[\u00a0\u00a0 0.5]\u200b [drm]".encode()) == "[   0.5] [drm]"
    assert decode("caf\u00e9 \u2014 ok".encode()) == "caf\u00e9 \u2014 ok"  # other text stays as it is


def test_megabyte_line_is_parsed_whole():
    raw = b"[VKR] vkQueueSubmit: ret=0 " + b"A" * (4 << 20)
    rec = parse_one(raw)
    assert rec.fields["result"] == "VK_SUCCESS" and len(rec.text) == len(raw)


@settings(deadline=None, max_examples=400)
@given(st.binary(max_size=300))
def test_parser_never_fails_on_any_bytes(data):
    data = data.replace(b"\n", b"")
    parser = Parser()
    for prefix in (b"", b"MESA-VIRTIO: debug: ", b"[VKR] ", b"vkr: ", b"1. ", b"[mvk-info] ", b"\t"):
        records = parser.parse(line(prefix + data))
        assert records and all(r.text is not None for r in records)


@settings(deadline=None, max_examples=200)
@given(st.sampled_from(["stuck in {} wait with iter at {}"]), st.sampled_from(
    ["ring seqno", "tls ring seqno", "ring space", "fence", "semaphore", "query", "client"]),
    st.integers(min_value=0, max_value=10**9))
def test_stuck_wait_reasons(fmt, reason, iteration):
    rec = parse_one(("MESA-VIRTIO: debug: " + fmt.format(reason, iteration)).encode())
    assert rec.fields["reason"] == reason and rec.fields["iter"] == iteration


def test_pathological_long_lines_finish():
    # Quadratic regexes would hang here (the suite's timeout catches that); linear ones are instant.
    body = b"A" * (1 << 20)
    parser = Parser()
    for prefix in (b"[VKR] f: ", b"MESA-VIRTIO: debug: ", b"vkr: ", b"1. a", b"x" * 10 + b" ",
                   b"virtio_gpu ", b"[mvk-info] ", b"1234@5678.1", b"user@host", b"localhost:~", b"[krun"):
        for filler in (body, b" a" * (1 << 19), b" " * (1 << 20), b"0x" * (1 << 19), b"a=" * (1 << 19),
                       b"1" * (1 << 20)):
            assert parser.parse(line(prefix + filler))
    # Every literal of the registry repeated over the whole matched part of a line (a rule that scans ahead from
    # each occurrence of its start would be quadratic: eErrorOutOf… took 0.5 s a line before it was fixed).
    from venustui.parse import MATCH_LIMIT, families

    literals = {m.decode() if isinstance(m, bytes) else m for family in families.FAMILIES
                for m in (*family.markers, *family.tracked, *family.anywhere, *family.glued, *family.mentions)}
    for literal in sorted(literals):
        for unit in (literal, literal + " ", "e" + literal + "'"):
            assert parser.parse(line((unit * (MATCH_LIMIT // len(unit) + 1)).encode()))
    # Fragments of real lines that were quadratic before their rules were bounded (bench/hostile.py repeats every
    # fixture line's fragments: 2 s, 0.6 s and 0.2 s a line then)
    for unit in ("Fatal signal 6 (SIGABRT) pid 1 (", "Assertion failed: (x", "Assertion failed: physic",
                 "NVRM: Xid (PCI:0000:01:0", 'a.c:1: f: assertion "'):
        assert parser.parse(line((unit * (MATCH_LIMIT // len(unit) + 1)).encode()))


def _parsed_as_is(parser: Parser) -> Parser:
    """The same parser with every line parsed as it is (no shapes): the reference for the shape path."""
    parser._parse_by_shape = parser._parse_text
    return parser


def test_lines_parsed_by_shape_equal_lines_parsed_as_they_are():
    # Every fixture line, twice with other handles (synthetic: each handle's digits replaced).
    shifted = {}

    def other_handles(raw: bytes) -> bytes:
        return re.sub(rb"0x[0-9a-fA-F]{4,16}\b", lambda m: shifted.setdefault(
            m.group(), b"0x%x" % (int(m.group(), 16) ^ 0x5A5A5 | 0x10000)), raw)

    paths = [p for folder in ("seed", "lab-lavapipe", "synthetic") for p in (DATA / folder).glob("*.log")]
    raws = [raw for path in paths for raw in path.read_bytes().splitlines()]
    raws += [other_handles(raw) for raw in raws]
    by_shape, as_is = Parser(), _parsed_as_is(Parser())
    for raw in raws:
        assert by_shape.parts("s", "file", raw) == as_is.parts("s", "file", raw), raw
    assert any(by_shape._shapes.values()), "fixture lines share shapes"


@settings(deadline=None, max_examples=300)
@given(st.sampled_from([b"[VKR] vkQueueSubmit: queue=%s submitCount=1 fence=%s ret=0",
                        b"[VKR] vkCreateFence: device=%s fence=%s ret=-4",
                        b"[VKR] vkCmdDraw: commandBuffer=%s (%s) returned 1",
                        b"[mvk-error] VK_ERROR: image %s layout {%s}",
                        b"vkr: Validation Error: Object 0: handle = %s; MessageID = %s"]),
       st.lists(st.one_of(st.integers(0, 2 ** 64 - 1).map(lambda v: b"0x%x" % v),
                          st.integers(0, 2 ** 16).map(lambda v: b"0x%04X" % v),
                          st.sampled_from([b"0x5eed5eed00000000", b"0x12", b"0x12345678901234567", b"0xabcd"])),
                min_size=4, max_size=4))
def test_shapes_never_change_what_a_line_says(template, handles):
    by_shape, as_is = Parser(), _parsed_as_is(Parser())
    for first, second in ((handles[0], handles[1]), (handles[2], handles[3]), (handles[1], handles[1])):
        raw = template % (first, second)
        assert by_shape.parts("s", "file", raw) == as_is.parts("s", "file", raw), raw


def test_a_failed_step_with_a_number_names_its_result():
    """A test program's "3. Device: FAILED -3" (VENUS_FACTS.md): -3 is VK_ERROR_INITIALIZATION_FAILED."""
    rec = parse_one(b"3. Device: FAILED -3")
    assert (rec.fields["result"], rec.fields["code"], rec.level) == ("VK_ERROR_INITIALIZATION_FAILED", -3, "error")



def test_a_catch_all_line_is_as_bad_as_its_words():
    """A program's lines no specific rule knows are logged at one level; their words (or a tool's leading
    'error:') say how bad they are, and an envelope's own level is kept. Synthetic lines in real shapes."""
    said = {text: (rec.fmt, rec.what, rec.level) for text in (
        b"   vkr: vkr_context_submit_cmd: ring fatal",
        b"render_server: render_worker_create: fork failed",
        b"2024-11-20 10:11:12.123 krunkit[99:1234] [hvf] map_memory failed",
        b"error: krun: unable to open /dev/kvm",
        b"E: Unable to locate package krunkit",
        b"Setting up krunkit (0.1.4) ...",
        b"[2024-01-01T00:00:00Z INFO  krun] vcpu thread failed to start",
        b"lima: [hostagent] krunkit: exited with status 1",
        b"virgl_render_server: vkr: vkr_context_create_ring: ring shmem too small",
    ) for rec in [parse_one(text)]}
    assert list(said.values()) == [
        ("vkr-server", "message", "error"), ("virglrenderer", "debug_print", "error"), ("krun", "message", "error"),
        ("app", "kvm_unavailable", "error"), ("krun", "mention", "error"), ("krun", "mention", "info"),
        ("krun", "message", "info"), ("krun", "mention", "error"), ("vkr-server", "message", "error")]
