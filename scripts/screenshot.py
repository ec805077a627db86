"""Writes docs/screenshot.svg: the app itself on a replay of the lab captures and the seed's lines."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from venustui.control import Control  # noqa: E402
from venustui.journal import Journal, Recorder  # noqa: E402
from venustui.session import Session, replay  # noqa: E402
from venustui.sources import parse_spec  # noqa: E402
from venustui.tui.app import VenusApp  # noqa: E402

DATA = ROOT / "tests" / "data"
FILES = [DATA / "seed" / "guest.log", DATA / "seed" / "host.log"] + [
    DATA / "lab-lavapipe" / f for f in ("guest-fence-default.log", "guest-fence-no_fence_feedback.log",
                                        "guest-map-no_fence_feedback.log", "host.log")]


async def main() -> None:
    journal = Path(tempfile.mkdtemp()) / "shot.vtj"
    live = Session([parse_spec(str(p)) for p in FILES], follow=False, recorder=Recorder(journal))
    live.start()
    live.run_to_end()
    live.stop()
    control = Control(Session([], follow=False))
    replay(Journal.open(journal), control.session, fold=control.fold_one)
    app = VenusApp(control, subtitle="replay of the lab captures")
    async with app.run_test(size=(160, 44)) as pilot:
        await pilot.pause(0.5)
        app.save_screenshot("screenshot.svg", str(ROOT / "docs"))


asyncio.run(main())
