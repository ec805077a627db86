"""Log time: each envelope's stamp read on its clock, and sources aligned onto the arrival clock."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from venustui.events import Line
from venustui.logtime import Timeline, read_time, stamp
from venustui.parse import Parser

from ..conftest import DATA


def test_each_envelope_stamp_is_read_on_its_clock():
    # the forms of real setups (VENUS_FACTS.md's "Real logs"); a few lines are real fixture lines below
    assert stamp("[    1.234567] [drm] features: +virgl") == ("uptime", 1.234567)
    assert stamp("<3>[   12.5] virtio_gpu: error") == ("uptime", 12.5)
    assert stamp("[  475.257111] host qemu-system-x86_64[99]: warning: x") == ("uptime", 475.257111)
    assert stamp("2025-02-18 07:08:52,277: MESA-VIRTIO: debug: x") == ("wall", 1739862532.277)
    assert stamp("12345@1700000000.123456:virtio_gpu_fence_ctrl fence 0x1, type 0x204") == ("wall", 1700000000.123456)
    assert stamp("[2025-06-10T12:00:00Z ERROR hvf] map_memory: err 1") == ("wall", 1749556800.0)
    assert stamp("2026-01-27 19:49:29.123456-0800 0x1a2b  Debug  0x0  38956  0  virgl_render_server: vkr: x")[0] == "wall"
    clock, seconds = stamp("Nov 26 10:33:02 host virgl_render_server[12]: vkr: x")
    assert clock == "syslog" and seconds == (304 + 25) * 86400 + 10 * 3600 + 33 * 60 + 2
    # journald in a Spanish, German or French locale: the month as the locale abbreviates it
    for month in ("nov", "Nov.", "nov."):
        assert stamp(f"{month} 26 10:33:02 host kernel: [drm] x") == ("syslog", seconds), month
    assert stamp("dic 01 16:41:28 arch-laptop kernel: [drm] x") == ("syslog", 334 * 86400 + 16 * 3600 + 41 * 60 + 28)
    assert stamp("févr. 01 16:41:28 vm kernel: x") == ("syslog", 31 * 86400 + 16 * 3600 + 41 * 60 + 28)
    assert stamp("Okt 01 16:41:28 vm kernel: x")[0] == "syslog"
    assert stamp("[06:08:47.588] something") == ("day", 6 * 3600 + 8 * 60 + 47.588)
    assert stamp("MESA-VIRTIO: debug: no stamp") is None
    assert stamp("") is None
    assert read_time("2025-13-45 99:99:99") is None  # not a date: no stamp, no error
    # journalctl's short-unix and short-full, Android's logcat (a month and day without a year, as syslog's)
    assert stamp("1700000000.123456 host vkcube[1234]: MESA-VIRTIO: debug: x") == ("wall", 1700000000.123456)
    assert stamp("Thu 2025-11-26 10:33:02 UTC host virgl_render_server[12]: vkr: x") == ("wall", 1764153182.0)
    assert stamp("12-01 10:00:00.123  1234  1250 D MESA-VIRTIO: x") == ("syslog", 334 * 86400 + 36000.123)
    assert read_time("13-45 10:00:00.123") is None  # no such month: no stamp, no error
    # glog and Chromium (a month and day too), JSON records (journald's microseconds, a logger's ISO time)
    assert stamp("E1201 10:00:00.123456  1234 virtio_gpu.cc:100] x") == ("syslog", 334 * 86400 + 36000.123456)
    assert stamp("[1234:1250:1201/100000.5:ERROR:gpu_init.cc(441)] x") == ("syslog", 334 * 86400 + 36000.5)
    assert stamp('{"__REALTIME_TIMESTAMP":"1700000000123456","MESSAGE":"vkr: x"}') == ("wall", 1700000000.123456)
    assert stamp('time="2025-06-10T12:00:00Z" level=error msg="x"') == ("wall", 1749556800.0)
    assert stamp("2025/06/10 12:00:00 krunkit exited") == ("wall", 1749556800.0)  # Go's log package
    assert stamp("[2025-06-10 12:00:00.5] [ggml] [error] x") == ("wall", 1749556800.5)
    # logrus for a terminal (seconds since the program started, or its time), the kernel's caller id, a bare clock
    assert stamp("DEBU[0012] krunkit: vm started") == ("uptime", 12.0)
    assert stamp("WARN[2025-06-10T12:00:00Z] x") == ("wall", 1749556800.0)
    assert stamp("[    1.500000][    T1] virtio_gpu virtio0: x") == ("uptime", 1.5)
    assert stamp("06:08:47.588 vkcube: x") == ("day", 6 * 3600 + 8 * 60 + 47.588)
    # dmesg -T (real-threads-extra/26) is the wall clock; dmesg -H's minutes and deltas are no usable stamp
    assert stamp("[Wed Dec 24 23:34:41 2025] [drm] features: +virgl -edid") == ("wall", 1766619281.0)
    assert stamp("[Fri May  3 01:02:03 2024] [drm] x") == ("wall", 1714698123.0)
    assert stamp("[Dec24 23:34] [drm] x") is None and stamp("[  +0.000123] [drm] x") is None
    parser = Parser()  # a dmesg -T or -H capture's lines stay the kernel's, whatever they say
    for line in ("[  +0.000004] usb 1-1: new high-speed USB device", "[Wed Dec 24 23:34:41 2025] Out of memory: x"):
        (record,) = parser.parse(Line("s", "file", 0, 0, line.encode(), True, 0.0, 0.0, 1))
        assert (record.fmt, record.what) == ("kernel", "message"), line
    assert read_time("Wed Dec 99 23:34:41 2025") is None  # no such day: no stamp, no error


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=80))
def test_any_text_gives_a_stamp_or_none(text):
    found = stamp(text)
    assert found is None or (found[0] in ("wall", "syslog", "uptime", "day") and isinstance(found[1], float))


def test_sources_on_different_clocks_interleave_by_log_time():
    """A host on its wall clock and a guest on its uptime, both files read at once (one arrival time):
    each source is taken to end when it was read, and their lines interleave by their own stamps."""
    read_at = 1000.0
    timeline = Timeline()
    host = ["2025-02-18 07:00:00,000: a", "2025-02-18 07:00:10,000: b", "  continued", "2025-02-18 07:00:20,000: c"]
    guest = ["[    5.000000] A", "[   16.000000] B", "[   25.000000] C"]
    timeline.add([(n, "host", read_at, text) for n, text in enumerate(host)])
    timeline.add([(len(host) + n, "guest", read_at, text) for n, text in enumerate(guest)])
    order = timeline.order().tolist()
    texts = (host + guest)
    assert [texts[n].split()[-1] for n in order] == ["a", "A", "b", "continued", "B", "c", "C"]
    assert "host: wall clock" in timeline.describe() and "guest: uptime" in timeline.describe()


def test_a_source_without_stamps_keeps_arrival_time_and_a_day_clock_wraps_at_midnight():
    timeline = Timeline()
    timeline.add([(0, "app", 10.0, "no stamp here"), (1, "app", 30.0, "nor here")])
    timeline.add([(2, "dbg", 20.0, "[23:59:59.000] late"), (3, "dbg", 20.5, "[00:00:00.500] after midnight")])
    order = timeline.order().tolist()
    assert order == [0, 2, 3, 1]
    assert "app: arrival order (no stamps)" in timeline.describe()
    assert timeline.order(first=2).tolist() == [2, 3]


def test_the_qemu_lab_serial_console_orders_on_its_uptime():
    """Real fixture: the QEMU guest's serial console (kernel lines stamped, the guest program's not)."""
    lines = (DATA / "qemu-lavapipe" / "guest-serial.log").read_text(errors="replace").splitlines()
    timeline = Timeline()
    timeline.add([(n, "guest", 0.0, text) for n, text in enumerate(lines)])
    order = timeline.order().tolist()
    assert sorted(order) == list(range(len(lines)))
    assert timeline.clocks["guest"].clock == "uptime"
    stamps = [stamp(lines[n]) for n in order]
    seconds = [found[1] for found in stamps if found]
    assert seconds == sorted(seconds) and len(seconds) > 300
    # a `dmesg` printed again later goes back to the boot's time; its header stays after what preceded it
    header = next(n for n, text in enumerate(lines) if text.startswith("=== dmesg"))
    assert order[order.index(header) - 1] == header - 1
