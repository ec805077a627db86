"""Run by tests/functional/test_wheel.py with the Python of a fresh venv holding the built wheel (not this
checkout): the TUI opens on a fixture under Textual's Pilot, shows the Findings, and quits."""

from __future__ import annotations

import asyncio
import sys


async def main(path: str) -> int:
    from venustui.control import Control
    from venustui.session import Session
    from venustui.sources import parse_spec
    from venustui.tui.app import VenusApp

    control = Control(Session([parse_spec(path)], follow=False))
    control.start()
    app = VenusApp(control)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            text = ""
            for _ in range(300):  # until the Findings pane has drawn a finding
                await pilot.pause(0.05)
                text = str(app.query_one("#findings").content())
                if "CRITICAL" in text or "ERROR" in text:
                    break
            await pilot.press("q")
    finally:
        control.stop()
    print("findings:", text.splitlines()[0] if text else "(none)")
    return 0 if "CRITICAL" in text or "ERROR" in text else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
