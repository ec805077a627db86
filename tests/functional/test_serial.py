"""`serial:` sources against a real PTY (as QEMU's `-serial pty` gives) and a real UNIX socket (QEMU's `-serial
unix:PATH,server`): lines with the console's CRs arrive parsed; a socket that closes is connected again."""

from __future__ import annotations

import os
import socket
import threading

from venustui.session import Session
from venustui.sources import parse_spec

from ..conftest import wait_for

# real lines of a QEMU guest's serial console (tests/data/qemu-lavapipe/guest-serial.log), with the CRLF a
# console sends
CONSOLE = (b"[    6.458331] [drm] features: +virgl +edid +resource_blob +host_visible\r\n"
           b"[    6.542703] [drm] cap set 2: id 4, max-version 0, max-size 160\r\n"
           b"MESA-VIRTIO: debug: vn_CreateInstance: VK_ERROR_OUT_OF_HOST_MEMORY\r\n")


def pumped(session, seen: list) -> None:
    for event, _ in session.pump(0.05):
        if hasattr(event, "data"):
            seen.extend(event.data.splitlines())


def test_a_pty_console_is_read_raw_and_parsed():
    master, slave = os.openpty()
    path = os.ttyname(slave)
    session = Session([parse_spec(f"guest=serial:{path}")], follow=True, poll_interval=0.05)
    session.start()
    seen: list[bytes] = []
    try:
        wait_for(lambda: pumped(session, []) or session.model.source_state.get("guest") is not None, timeout=20)
        os.write(master, CONSOLE)
        wait_for(lambda: pumped(session, seen) or len(seen) >= 3, timeout=20)
        assert seen[0].rstrip(b"\r").endswith(b"+host_visible")
        gpu = session.model.virtio_gpu["guest"]
        assert gpu.venus and "+resource_blob" in gpu.features
        assert any(n.what == "result" and n.fields["result"] == "VK_ERROR_OUT_OF_HOST_MEMORY"
                   for n in session.model.notable)
    finally:
        session.stop()
        os.close(master)
        os.close(slave)


def test_a_unix_socket_console_is_connected_again_when_it_comes_back(tmp_path):
    path = str(tmp_path / "serial.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def serve(lines: bytes) -> None:
        conn, _ = server.accept()
        conn.sendall(lines)
        conn.close()  # QEMU went away; the socket stays (as with a restarted QEMU)

    threading.Thread(target=serve, args=(CONSOLE[:78],), daemon=True).start()
    session = Session([parse_spec(f"guest=serial:{path}")], follow=True, poll_interval=0.05)
    session.start()
    seen: list[bytes] = []
    try:
        wait_for(lambda: pumped(session, seen) or len(seen) >= 1, timeout=20)
        threading.Thread(target=serve, args=(CONSOLE[78:],), daemon=True).start()
        wait_for(lambda: pumped(session, seen) or len(seen) >= 3, timeout=30)
        assert session.model.virtio_gpu["guest"].venus
        opened = [n for n in session.model.notices if n.kind == "opened"]
        assert len(opened) >= 2 and opened[-1].detail["generation"] >= 1
    finally:
        session.stop()
        server.close()
