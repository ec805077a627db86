"""The TUI: every key, the story (rerun with a feedback flag toggled), safe log text, snapshots from replays."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import uuid

import pytest
from textual.strip import Strip

from venustui.control import Control
from venustui.events import Chunk, Notice
from venustui.journal import Journal, Recorder
from venustui.linestore import LineStore
from venustui.probe.runner import Target
from venustui.session import Session, replay
from venustui.sources import parse_spec
from venustui.tui.app import VenusApp
from venustui.tui.logview import LogView
from venustui.tui.panes import FencesPane, QueuesPane, StatusLine

from ..conftest import DATA, LAB, SEED

LAB_FILES = [LAB / f for f in ("guest-fence-default.log", "guest-fence-no_fence_feedback.log",
                               "guest-map-no_fence_feedback.log", "host.log")]


def record(paths, path) -> None:
    """Record the files, read to their end, to a journal at path."""
    live = Session([parse_spec(str(p)) for p in paths], follow=False, recorder=Recorder(path))
    live.start()
    live.run_to_end()
    live.stop()


def choice_ids(app) -> list[str]:
    """The ids of the options a list screen (flags, panes, sessions) offers."""
    options = app.screen.query_one("#choices")
    return [options.get_option_at_index(k).id for k in range(options.option_count)]


def replayed_control(paths, tmp_path, **options) -> Control:
    """A control whose model and lines come from a journal of the fixtures (deterministic: no clocks, no pids)."""
    path = tmp_path / f"{uuid.uuid4().hex}.vtj"
    record(paths, path)
    control = Control(Session([], follow=False), **options)
    replay(Journal.open(path), control.session, fold=control.fold_one)
    return control


def runs_done(control: Control, count: int) -> bool:
    targets = control.session.model.targets
    return not control.busy and len(targets) >= count and all(t.outcome for t in targets.values())


def fence_target(marker: str) -> Target:
    return Target("test_fence", (sys.executable, str(DATA / "targets" / "fence_steps.py"), marker))


def lab_control(lab_pairs, which: str = "trixie", *, vmm: str = "vtest", deadline: float = 4.0) -> Control:
    """A started Control on a lab pair of the test root (a runtime folder of its own)."""
    from pathlib import Path

    from venustui.lab import Lab

    root, pairs = lab_pairs
    lab = Lab(uuid.uuid4().hex[:8], root=root, pair=pairs[which], vmm=vmm,
              runtime=Path(f"/tmp/venustui-tui-{uuid.uuid4().hex[:8]}"))
    control = Control(Session([], follow=False), lab=lab, deadline=deadline)
    control.start()
    return control


async def shown_fences(pilot) -> FencesPane:
    """The fences tab brought forward, as a user would (panes in hidden tabs do not redraw)."""
    pilot.app.query_one("#panes").active = "tab-fences"
    await pilot.pause(0.3)
    return await drawn(pilot, pilot.app.query_one("#fences", FencesPane))


async def drawn(pilot, pane):
    """The pane once it shows the model as it is now (the app redraws shown panes after each change)."""
    for _ in range(500):
        if pane._version == pane.control.version:
            return pane
        await pilot.pause(0.02)
    raise AssertionError(f"{pane.id} did not redraw")


async def settle(pilot, control, condition, rounds: int = 300):
    for _ in range(rounds):
        control.fold(control.session.hub.take(0.02))
        await pilot.pause(0.02)
        if condition():
            return True
    return condition()


async def test_flag_keys_and_the_rerun_story(tmp_path):
    """The feedback key and rerun turn the fence pane from stuck to signaled (a guest that needs the flag)."""
    control = replayed_control(SEED.glob("guest.log"), tmp_path, target=fence_target(f"tui-{uuid.uuid4().hex}"),
                               deadline=1.5)
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("r")
        assert await settle(pilot, control, lambda: runs_done(control, 1))
        pane = await shown_fences(pilot)
        assert "hung at fence" in str(pane.render())
        for key in ("f", "s", "e", "u"):
            await pilot.press(key)
        assert set(control.flags.perf) == {"no_fence_feedback", "no_semaphore_feedback", "no_event_feedback",
                                           "no_query_feedback"}
        for key in ("s", "e", "u"):
            await pilot.press(key)
        assert control.flags.perf == ("no_fence_feedback",)
        await pilot.press("r")
        assert await settle(pilot, control, lambda: runs_done(control, 2))
        await drawn(pilot, pane)
        assert "passed" in str(pane.render()).splitlines()[-1]
        actions = [name for _, name, _ in control.session.model.actions]
        assert actions.count("toggle") == 7 and actions.count("rerun") == 2
        await pilot.press("q")


async def test_triage_probe_record_keys(tmp_path):
    recorder = Recorder(tmp_path / "tui.vtj")
    control = replayed_control([SEED / "guest.log"], tmp_path, target=fence_target(f"tui-{uuid.uuid4().hex}"),
                               deadline=1.5)
    control.session.recorder = recorder
    app = VenusApp(control)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        assert await settle(pilot, control, lambda: not control.busy and control.messages
                            and "passes with no_fence_feedback" in control.messages[-1])
        await pilot.press("o")
        assert await settle(pilot, control, lambda: not control.busy and "probe #" in control.messages[-1])
        await pilot.press("R")
        assert recorder.paused
        await pilot.press("R")
        assert not recorder.paused
        await pilot.press("q")
    recorder.close()


async def test_cursor_keys_mark_decode_search_zoom_theme_help(tmp_path):
    control = replayed_control(SEED.glob("*.log"), tmp_path)
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        log = app.query_one("#log", LogView)
        log.focus()
        await pilot.pause(0.3)
        await pilot.press("slash")
        await pilot.pause(0.2)
        await pilot.press(*"CreateFence")
        await pilot.press("enter")
        await pilot.pause(0.1)
        line = log.current_line()
        assert line is not None and b"CreateFence" in line.data
        await pilot.press("up", "down")
        assert b"0x50000000005" in log.current_line().data
        await pilot.press("d")
        await pilot.pause(0.1)
        assert "validation-layer unique id 5" in str(app.screen.query("Static")[1].render())
        await pilot.press("escape")
        marked = log.current_line().seq
        await pilot.press("m")
        await pilot.pause(0.2)
        await pilot.press(*"host fence", "enter")
        assert await settle(pilot, control, lambda: any(a[1] == "mark" for a in control.session.model.actions))
        mark = next(a for a in control.session.model.actions if a[1] == "mark")
        assert mark[2] == {"seq": marked, "note": "host fence"}
        await pilot.press("z")
        assert app.zoomed and not app.query_one("#panes").display
        await pilot.press("z")
        theme = app.theme

        def colour_of_line() -> str:  # the cursor's line, a [VKR] print
            return str(log._text(log.number(log.cursor)).spans[-1].style)

        before = colour_of_line()
        assert before == app.current_theme.variables["kind-vkr"]
        await pilot.press("T")
        await pilot.pause(0.1)
        assert app.theme != theme and colour_of_line() == app.current_theme.variables["kind-vkr"] != before
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert "Rerun" in str(app.screen.query("Static")[1].render())
        await pilot.press("escape")
        await pilot.press("end")
        assert log.follow
        await pilot.press("q")
    assert not app.is_running


async def test_log_text_with_markup_and_escapes_shows_literally(tmp_path):
    control = Control(Session([], follow=False))
    control.fold_one(Chunk("host", "file", 0, 0, b"[bold]x[/] [/] \x1b[31mred\x1b[0m \x1b]0;title\x07 nul\x00 \xff\n",
                           False, 0.0, 0.0, seq=1))
    app = VenusApp(control)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.3)
        text = app.query_one("#log", LogView)._text(0).plain
        # Escape sequences are shown as text (a person sees the log held them), never sent to the terminal.
        assert "[bold]x[/] [/] \\x1b[31mred\\x1b[0m \\x1b]0;title\\x07 nul\\0 \ufffd" in text and "\x1b" not in text
        await pilot.press("q")


async def test_left_and_right_move_long_lines_sideways(tmp_path):
    control = Control(Session([], follow=False))
    text = "".join(f"{n:04d}+" for n in range(0, 400, 5))  # column c of the text holds its own number
    control.fold_one(Chunk("host", "file", 0, 0, f"{text}\n".encode(), False, 0.0, 0.0, seq=1))
    app = VenusApp(control)
    async with app.run_test(size=(120, 30)) as pilot:
        log = app.query_one("#log", LogView)
        log.focus()
        await pilot.pause(0.3)

        def shown() -> str:
            return "".join(segment.text for segment in log.render_line(0))

        assert shown().startswith("host       0000+0005+")
        await pilot.press("right")
        await pilot.pause(0.1)
        step = log.shift
        assert step >= 8 and shown().startswith(f"host       {text[step:step + 10]}")  # the tag stays
        assert f"from column {step + 1}" in str(log.border_subtitle)
        await pilot.press("right", "left", "left", "left")
        await pilot.pause(0.1)
        assert log.shift == 0 and shown().startswith("host       0000+0005+")
        await pilot.press("q")


async def test_narrow_terminal_turns_the_log_into_a_tab(tmp_path):
    control = replayed_control(LAB_FILES, tmp_path)
    app = VenusApp(control)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert app.narrow and not app.query_one("#log").display
        await pilot.resize_terminal(160, 48)
        await pilot.pause(0.2)
        assert not app.narrow and app.query_one("#log").display
        await pilot.press("q")


@pytest.mark.parametrize("size, theme", [((160, 48), "venus-dark"), ((80, 24), "venus-light")])
def test_snapshot_main_screen(snap_compare, size, theme, tmp_path):
    control = replayed_control(LAB_FILES, tmp_path)
    assert snap_compare(VenusApp(control, theme_name=theme), terminal_size=size, run_before=_settle_screen)


PANES = ["tab-findings", "tab-runs", "tab-queues", "tab-fences", "tab-ring", "tab-handles", "tab-probe", "tab-driver"]


@pytest.mark.parametrize("tab", PANES)
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
@pytest.mark.parametrize("theme", ["venus-dark", "venus-high-contrast"])
def test_snapshot_panes(snap_compare, tab, size, theme, tmp_path):
    control = replayed_control([*SEED.glob("guest.log"), SEED / "host.log", *LAB_FILES], tmp_path)

    async def show(pilot):
        pilot.app.query_one("#panes").active = tab
        await _settle_screen(pilot)

    assert snap_compare(VenusApp(control, theme_name=theme), terminal_size=size, run_before=show)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_snapshot_virtio_gpu_pane(snap_compare, size, tmp_path):
    """A real QEMU guest's console with hostmem=64K (tests/data/qemu-lavapipe): its device in the pane."""
    control = replayed_control([DATA / "qemu-lavapipe" / "guest-serial-hostmem64k.log"], tmp_path)

    async def show(pilot):
        pilot.app.query_one("#panes").active = "tab-gpu"
        await _settle_screen(pilot)

    assert snap_compare(VenusApp(control), terminal_size=size, run_before=show)


def recorded_seed(tmp_path):
    """The seed fixtures folded live and recorded: (journal path, the live session)."""
    path = tmp_path / "seed.vtj"
    live = Session([parse_spec(str(p)) for p in sorted(SEED.glob("*.log"))], follow=False, recorder=Recorder(path))
    live.start()
    live.run_to_end()
    live.stop()
    return path, live


async def test_filter_jump_and_replay_controls(tmp_path):
    path, _ = recorded_seed(tmp_path)
    control = Control(Session([], follow=False), readonly=True)
    replayer = control.start_replay(Journal.open(path), speed=None)
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        assert await settle(pilot, control, lambda: replayer.position == replayer.total)
        log = app.query_one("#log", LogView)
        await pilot.press("F")
        await pilot.pause(0.2)
        await pilot.press(*"source=host.log", "enter")
        await pilot.pause(0.3)
        shown = [log.control.lines.line(log.number(i))[0].source for i in range(log.virtual_size.height)]
        assert shown and set(shown) == {"host.log"}
        await pilot.press("F")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert log.filter is None and log.virtual_size.height == control.lines.total
        await pilot.press("j")
        await pilot.pause(0.2)
        assert log.current_line() is not None and not log.follow
        await pilot.press("r")  # read-only: refused, said so
        await pilot.pause(0.1)
        assert "read-only" in control.messages[-1]
        await pilot.press("space")
        assert not replayer.playing.is_set()
        await pilot.press("space")
        assert replayer.playing.is_set()
        await pilot.press("q")


async def _settle_screen(pilot):
    await pilot.pause(0.5)


async def test_the_queues_pane_shows_each_queue_with_its_runs_fences(tmp_path):
    control = replayed_control(LAB_FILES, tmp_path)
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        app.query_one("#panes").active = "tab-queues"
        await pilot.pause(0.3)
        pane = await drawn(pilot, app.query_one("#queues", QueuesPane))
        lines = str(pane.render()).splitlines()
        # The run that hung before vkCreateFence has a queue and no fence; the flagged one signaled.
        assert lines == ["guest queue 0x5654bb8f6370  device 0x5654bbaa6a80  run 1  submits 0",
                         "guest queue 0x56180001b370  device 0x5618001c8790  run 2  submits 1  "
                         "fences of its run: 0x7fb15c0023f0 signaled"]
        await pilot.press("q")


async def test_flag_picker_and_probe_and_driver_panes(tmp_path):
    control = replayed_control([SEED / "guest.log"], tmp_path)
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("p")
        await pilot.pause(0.2)
        ids = choice_ids(app)
        assert "VN_PERF:no_fence_feedback" in ids and "VN_DEBUG:no_abort" in ids and "VKR_DEBUG:validate" in ids
        app.screen.query_one("#choices").highlighted = ids.index("VN_DEBUG:no_abort")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert control.flags.debug == ("no_abort",)
        app.query_one("#panes").active = "tab-probe"
        await pilot.pause(0.2)
        assert "no probe runs yet" in str(app.query_one("#probe").render())
        assert "no driver to inspect" in str(app.query_one("#driver").render())
        await pilot.press("q")


@pytest.mark.lab
async def test_the_lab_story_in_the_tui(lab_root):
    """On the real lab: rerun hangs in vkCreateFence; f then r, and the fence pane shows it signaled."""
    from venustui.lab import Lab

    lab = Lab(uuid.uuid4().hex[:8], root=lab_root,
              runtime=__import__("pathlib").Path(f"/tmp/venustui-tui-{uuid.uuid4().hex[:8]}"))
    control = Control(Session([], follow=False), lab=lab, deadline=3)
    control.start()
    app = VenusApp(control)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("r")  # the probe's fence and map phases with the defaults
            assert await settle(pilot, control, lambda: runs_done(control, 2), rounds=600)
            pane = await shown_fences(pilot)
            assert "hung at fence" in str(pane.render())
            await pilot.press("f", "r")
            assert await settle(pilot, control, lambda: runs_done(control, 4), rounds=600)
            await drawn(pilot, pane)
            fence_runs = [line for line in str(pane.render()).splitlines() if line.startswith("probe #")]
            assert "hung at fence" in fence_runs[0] and fence_runs[-1].endswith(": passed")
            assert "0x" in fence_runs[-1]  # the fence's handle, created this time
            assert "Venus driver (the lab)" in str(app.query_one("#driver").render())
            await pilot.press("q")
    finally:
        control.stop()


@pytest.mark.lab
async def test_f_on_a_mesa_without_fence_feedback_explains(lab_pairs):
    """On the newest pair (Mesa 26.2 or newer), f says the name does not exist in this Mesa and why the fence
    phase needs no toggle; the flags stay the defaults, and a rerun passes with them."""
    pairs = lab_pairs[1]
    control = lab_control(lab_pairs, "newest")
    app = VenusApp(control)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f")
            await pilot.pause(0.2)
            said = " ".join(str(n.message) for n in app._notifications)
            assert "no_fence_feedback does not exist in this Mesa" in said and "needs no toggle" in said
            assert control.flags.perf == ()
            assert pairs["newest"].id in str(app.query_one("#driver").render())  # the Driver pane names the pair
            await pilot.press("r")
            assert await settle(pilot, control, lambda: runs_done(control, 2), rounds=600)
            fence = [t for t in control.session.model.targets.values() if t.phase == "fence"]
            assert fence[0].outcome.get("status") == "passed"
            await pilot.press("q")
    finally:
        control.stop()


@pytest.mark.lab
async def test_the_qemu_lab_in_the_tui_at_80x24(lab_pairs):
    """make demo's view: on the QEMU guest a default run passes through the feedback path (fence signaled,
    perf = 0x0), and a rerun with f passes too (perf = 0x10)."""
    control = lab_control(lab_pairs, vmm="qemu", deadline=8)
    app = VenusApp(control)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("r")
            assert await settle(pilot, control, lambda: runs_done(control, 2), rounds=900)
            pane = await shown_fences(pilot)
            fence_runs = [line for line in str(pane.render()).splitlines() if line.startswith("probe #")]
            assert fence_runs and fence_runs[0].endswith(": passed"), str(pane.render())
            await pilot.press("f", "r")
            assert await settle(pilot, control, lambda: runs_done(control, 4), rounds=900)
            targets = [t for t in control.session.model.targets.values() if t.phase == "fence"]
            assert [t.vn_perf for t in targets] == ["", "no_fence_feedback"]
            assert all(t.outcome.get("status") == "passed" for t in targets)
            masks = [r.perf_mask for r in control.session.model.runs if r.perf_mask is not None]
            assert 0x0 in masks and 0x10 in masks  # the guest's own vn_env lines
            assert "qemu" in str(app.query_one("#driver").render()).lower()
            await pilot.press("q")
    finally:
        control.stop()


@pytest.mark.lab
async def test_picking_hostmem_small_shows_the_failure_and_its_finding(lab_pairs):
    """x offers the fault scenarios; hostmem-small at 80×24 restarts the guest with a 64 KiB host memory window:
    the runs fail at instance and the Findings pane names the ring's shared memory and the window's size."""
    from venustui.lab_scenarios import SCENARIOS

    control = lab_control(lab_pairs, vmm="qemu")
    app = VenusApp(control)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("x")
            await pilot.pause(0.3)
            names = [s.name for s in SCENARIOS]
            await pilot.press(*["down"] * names.index("hostmem-small"), "enter")
            assert await settle(pilot, control, lambda: runs_done(control, 2), rounds=1500)
            targets = list(control.session.model.targets.values())
            assert all(t.outcome.get("text") == "failed at instance (VK_ERROR_OUT_OF_HOST_MEMORY)" for t in targets)
            app.query_one("#panes").active = "tab-findings"
            await pilot.pause(0.5)
            shown = str(app.query_one("#findings").render())
            assert "ring's shared memory" in shown and "64 KiB" in shown, shown
            await pilot.press("q")
    finally:
        control.stop()


async def test_split_view_and_probe_watch(tmp_path):
    control = replayed_control(LAB_FILES, tmp_path)
    control.runner.deadline = 20
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("b")
        await pilot.pause(0.3)
        host = app.query_one("#log", LogView)
        guest = app.query_one("#log-guest", LogView)
        host_sources = {control.lines.line(host.number(i))[0].source for i in range(host.virtual_size.height)}
        guest_sources = {control.lines.line(guest.number(i))[0].source for i in range(guest.virtual_size.height)}
        assert host_sources == {"host.log"} and "host.log" not in guest_sources and guest_sources
        await pilot.press("b")
        assert host.filter is None
        await pilot.press("W")  # the probe on this machine's driver (lavapipe), resubmitting every 0.5 s
        assert await settle(pilot, control, lambda: any(t.samples for t in control.session.model.targets.values()),
                            rounds=600)
        await pilot.press("W")
        assert await settle(pilot, control, lambda: not control.busy, rounds=600)
        app.query_one("#panes").active = "tab-probe"
        await pilot.pause(0.3)
        assert "sample: fence signaled, slot written" in str(app.query_one("#probe").render())
        await pilot.press("q")


async def test_command_palette_lists_every_action(tmp_path):
    from venustui.tui.app import ActionCommands

    control = replayed_control([SEED / "guest.log"], tmp_path)
    app = VenusApp(control)
    async with app.run_test(size=(120, 40)) as pilot:
        provider = ActionCommands(app.screen)
        hits = [h async for h in provider.discover()]
        # Each key's action, once, by its description and key, and choosing it runs that very action.
        assert [hit.text for hit in hits] == [f"{b.description} ({b.key})" for b in VenusApp.BINDINGS]
        assert [hit.command.args for hit in hits] == [(b.action,) for b in VenusApp.BINDINGS]
        assert all(hasattr(app, "action_" + b.action.split("(")[0]) for b in VenusApp.BINDINGS)
        assert any("no_fence_feedback" in hit.text for hit in hits)
        hits = [h async for h in provider.search("zoom")]
        assert hits
        await hits[0].command()
        assert app.zoomed and not app.query_one("#panes").display
        await pilot.press("q")


async def test_replay_scrubber_moves_on_and_back(tmp_path):
    path, live = recorded_seed(tmp_path)
    control = Control(Session([], follow=False), readonly=True)
    replayer = control.start_replay(Journal.open(path), speed=1.0)
    replayer.playing.clear()  # paused: only seeks move it
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        assert await settle(pilot, control, lambda: replayer.position >= 0.25 * replayer.total)
        ahead, lines_ahead = replayer.position, sum(control.session.model.lines.values())
        status = app.query_one(StatusLine)
        assert await settle(pilot, control, lambda: f"▏ {ahead:,}/{replayer.total:,}" in str(status.render()))
        first_session = control.session
        await pilot.press("left_square_bracket")  # back 10%: strictly before where it was, whole events at a time
        assert await settle(pilot, control, lambda: control.session is not first_session
                            and 0 < replayer.position < ahead and replayer.seeking_to is None), \
            (ahead, replayer.position, replayer.seeking_to, control.session is first_session, control.messages)
        assert sum(control.session.model.lines.values()) < lines_ahead
        assert not replayer.playing.is_set()  # still paused where it was moved to
        await pilot.press("space")
        assert await settle(pilot, control, lambda: replayer.position == replayer.total)
        assert control.session.model.snapshot() == live.model.snapshot()  # moved back and on: the same end state
        await pilot.press("q")


async def test_a_key_press_holds_folding_only_until_the_screen_is_updated(tmp_path):
    """Every key press holds folding and reading, and every hold ends with the screen update after the key's
    binding: a fold that starts during a hold waits for its release, and a hold that is never released
    lets folding go on after its limit (here a long and a short limit, so no timing is assumed)."""
    control = replayed_control([SEED / "guest.log"], tmp_path)
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        hold = app.keyhold
        assert control.follower.gate == hold.wait and control.session.hub.gate == hold.wait
        await pilot.press("z", "z", "tab")
        assert await settle(pilot, control, lambda: hold.holds >= 3 and hold.releases == hold.holds)
        assert not app.zoomed

        hold.limit = 600.0  # a screen that is slow to answer: folding waits for it
        hold.hold()
        folding = asyncio.ensure_future(asyncio.to_thread(
            control.fold_one, Notice("x", "file", "opened", "", 0.0, 0.0, 1)))
        for _ in range(20):
            await asyncio.sleep(0.01)
            assert not folding.done()  # held
        hold.release()
        assert await asyncio.wait_for(folding, 30) == []

        hold.limit = 0.05  # a screen that never answers holds folding back for the limit at most
        hold.hold()
        records = await asyncio.wait_for(asyncio.to_thread(
            control.fold_one, Notice("x", "file", "opened", "", 0.0, 0.0, 2)), 30)
        assert records == [] and hold.held  # folded while the hold was never released
        hold.release()
        await pilot.press("q")


async def fold_synthetic(control, pilot, chunks: int, lines: int, seq: int = 1, offset: int = 0) -> None:
    """Chunks of synthetic lines "line N.K synthetic", folded as a live session would, a refresh apart."""
    for n in range(chunks):
        data = b"".join(f"line {n}.{k} synthetic\n".encode() for k in range(lines))
        control.fold_one(Chunk("t.log", "file", 0, offset, data, False, 0.0, 0.0, seq, lines))
        seq, offset = seq + lines, offset + len(data)
        await pilot.pause(0.15)
    await pilot.pause(0.3)


async def test_log_view_keeps_following_once_the_line_store_is_full():
    """At the store's cap each new chunk pushes an old one out: the height stays, the newest line must show."""
    control = Control(Session([], follow=False))
    control.follower.lines = LineStore(max_bytes=400)
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        log = app.query_one("#log", LogView)
        await fold_synthetic(control, pilot, chunks=12, lines=4)
        shown = app.export_screenshot().replace("&#160;", " ")  # what the screen last painted
        assert log.follow and "line 11.3 synthetic" in shown and "line 0.0 " not in shown
        await pilot.press("q")


def test_the_line_store_answers_reads_while_another_thread_adds_and_drops_chunks():
    """The screen reads lines while the fold thread adds chunks and drops the oldest (a 10-minute
    flood once raised IndexError between the two). Every answer is the right line or None."""
    store = LineStore(max_bytes=2_000)
    done = threading.Event()

    def fold() -> None:
        offset = 0
        for n in range(3_000):
            data = b"".join(b"line %d synthetic\n" % (n * 4 + k) for k in range(4))
            store.add(Chunk("t.log", "file", 0, offset, data, False, 0.0, 0.0, n * 4 + 1, 4))
            offset += len(data)
        done.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        thread = threading.Thread(target=fold)
        thread.start()
        answered = 0
        while not done.is_set():
            number = max(0, store.first - 1) + answered % 6
            found = store.line(number)
            if found is not None:
                assert found[0].data == b"line %d synthetic" % number
            store.matching(lambda line, kind: True, store.first)
            answered += 1
        thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert store.total == 12_000 and store.line(11_999)[0].data == b"line 11999 synthetic"


async def test_a_following_log_grows_without_laying_out_the_screen_and_shows_its_last_line():
    """New lines change only the log view's virtual height and scrollbar: a layout pass of the whole
    screen per refresh made every screen update under a flood long. The newest line stays at the bottom."""
    control = Control(Session([], follow=False))
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        log = app.query_one("#log", LogView)
        await fold_synthetic(control, pilot, chunks=1, lines=100)
        layouts = count_layouts(app.screen)
        await fold_synthetic(control, pilot, chunks=3, lines=6000, seq=101, offset=100 * 21)
        assert log.follow and log.total == 18100 and log.virtual_size.height == log.total
        assert layouts == []
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "line 2.5999 synthetic" in shown and "line 2.5950 " not in shown
        await pilot.press("up")
        assert not log.follow and log.cursor == log.total - 2
        await pilot.press("q")


async def test_drawing_lines_leaves_no_strip_for_the_garbage_collector():
    """Textual caches a strip in itself when cutting or cropping it changes nothing; each line drawn
    was then cyclic garbage, which a flood piled up (full collections are rare in the TUI)."""
    control = Control(Session([], follow=False))
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        await fold_synthetic(control, pilot, chunks=1, lines=100)
        gc.collect()
        await fold_synthetic(control, pilot, chunks=4, lines=100, seq=101, offset=100 * 21)
        await pilot.press("z")
        await pilot.pause(0.2)
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            left = [o for o in gc.garbage if isinstance(o, Strip)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert left == []
        await pilot.press("q")


def count_layouts(screen) -> list[bool]:
    """Each layout pass of the screen from now on, as whether folding was held back during it."""
    layouts, lay_out = [], screen._refresh_layout
    hold = screen.app.keyhold
    screen._refresh_layout = lambda *args, **kwargs: (layouts.append(hold.held), lay_out(*args, **kwargs))[1]
    return layouts


async def test_a_zoom_lays_the_screen_out_once_while_folding_waits():
    """Textual's scrollbar widgets ask for a second layout pass after any that resizes their view;
    the log view draws its own. The key holds folding until the update that follows its binding."""
    control = Control(Session([], follow=False))
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        await fold_synthetic(control, pilot, chunks=2, lines=100)  # more lines than rows: a scrollbar
        layouts = count_layouts(app.screen)
        await pilot.press("z")
        await pilot.pause(0.3)
        assert app.zoomed and layouts == [True]
        assert not app.keyhold.held
        await pilot.press("q")


async def test_the_log_view_draws_a_scrollbar_only_when_its_lines_overflow():
    control = Control(Session([], follow=False))
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        log = app.query_one("#log", LogView)
        width, thickness = log.size.width, log.styles.scrollbar_size_vertical

        def edge(row: int):
            """The style of the cells where a scrollbar goes, and of the cells just before them."""
            strip = log.render_line(row)
            assert strip.cell_length == width
            bar, before = strip.crop(width - thickness, width), strip.crop(width - 2 * thickness, width - thickness)
            assert bar.text == before.text == " " * thickness
            return bar._segments[0].style, before._segments[0].style

        await fold_synthetic(control, pilot, chunks=1, lines=5)
        assert "line 0.4 synthetic" in log.render_line(4).text
        bar, before = edge(0)
        assert bar == before  # no bar: the row's blanks run to the edge
        await fold_synthetic(control, pilot, chunks=3, lines=100)
        (track, _), (thumb, _) = edge(0), edge(log.size.height - 1)
        assert track != thumb  # following: the thumb at the bottom, the track above
        await pilot.press("q")


async def test_log_time_key_orders_the_merged_view_by_each_lines_own_stamp(tmp_path):
    """L: a host on its wall clock and a guest on its uptime (synthetic lines, labelled), read at once,
    interleave by their stamps; the title says how each source was placed; L again: arrival order."""
    host = tmp_path / "host.log"
    host.write_text("2025-02-18 07:00:00,000: vkr: a\n2025-02-18 07:00:10,000: vkr: b\n2025-02-18 07:00:20,000: vkr: c\n")
    guest = tmp_path / "guest.log"
    guest.write_text("[    5.000000] [drm] A\n[   16.000000] [drm] B\n[   25.000000] [drm] C\n")
    control = replayed_control([host, guest], tmp_path)
    app = VenusApp(control)
    async with app.run_test(size=(160, 48)) as pilot:
        log = app.query_one("#log", LogView)
        await pilot.pause(0.3)

        def shown() -> list[str]:
            return [control.lines.line(log.number(i))[0].data.decode().split()[-1] for i in range(log.total)]

        assert shown() == ["a", "b", "c", "A", "B", "C"]
        await pilot.press("L")
        await pilot.pause(0.3)
        assert shown() == ["a", "A", "b", "B", "c", "C"]
        assert "log time" in log.border_title and "uptime" in log.border_title and "wall clock" in log.border_title
        await pilot.press("L")
        await pilot.pause(0.3)
        assert shown() == ["a", "b", "c", "A", "B", "C"] and "log time" not in log.border_title
        await pilot.press("q")


async def test_every_pane_has_its_key_and_the_picker_lists_them_all(tmp_path):
    """At 80x24, where the panes are tabs: 1-9 bring each pane forward, 0 goes back to the log, P picks any;
    the status line names the next useful key after the top finding."""
    from venustui.tui.app import PANES

    control = replayed_control([SEED / "guest.log", SEED / "host.log"], tmp_path)
    app = VenusApp(control)
    async with app.run_test(size=(80, 24)) as pilot:
        panes = app.query_one("#panes")
        for key, (tab, _title) in enumerate(PANES, 1):
            await pilot.press(str(key))
            await pilot.pause(0.05)
            assert panes.active == tab, (key, panes.active)
        await pilot.press("0")
        await pilot.pause(0.1)
        assert panes.active == "tab-log" and app.focused is app.query_one("#log-tab", LogView)
        await pilot.press("P")
        await pilot.pause(0.2)
        await pilot.press("down", "down", "enter")  # the third: Queues
        await pilot.pause(0.2)
        assert panes.active == "tab-queues"
        await pilot.press("1")
        status = app.query_one("#status", StatusLine)
        for _ in range(100):
            await pilot.pause(0.05)
            if "f then r" in status._shown:
                break
        assert "f then r: rerun without fence feedback" in status._shown, status._shown
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        shown = str(app.screen.body)
        assert all(title in shown for _, title in PANES) and "Pane…" in shown
        await pilot.press("escape")
        await pilot.press("q")


async def test_the_sessions_key_lists_recorded_sessions_and_opens_the_one_picked(tmp_path, monkeypatch):
    """S: the recorded sessions (a journal recorded here, in a state folder of the test's own), newest first;
    Enter closes this screen with the pick, which the command line then replays."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    folder = state / "venustui" / "sessions"
    folder.mkdir(parents=True)
    for name in ("20261126-100000.vtj", "20261126-120000.vtj"):
        record([SEED / "guest.log"], folder / name)
    control = replayed_control([SEED / "guest.log"], tmp_path)
    app = VenusApp(control)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("S")
        await pilot.pause(0.3)
        assert [key.rsplit("/", 1)[1] for key in choice_ids(app)] == [
            "20261126-120000.vtj", "20261126-100000.vtj"]
        await pilot.press("down", "enter")
        await pilot.pause(0.3)
    assert app.return_value == ("replay", str(folder / "20261126-100000.vtj"))
