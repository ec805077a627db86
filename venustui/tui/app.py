"""The venustui app: the log view beside the panes, one key per action, fit for a tmux pane."""

from __future__ import annotations

import time
import tomllib
from functools import partial
from importlib import resources

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.theme import Theme
from textual.widgets import Footer, Header, TabbedContent, TabPane

from venustui import paths
from venustui.control import Control
from venustui.index import FORMAT_NAMES
from venustui.parse import find_handles
from venustui.parse.text import decode
from venustui.tui import strips
from venustui.tui.keyhold import KeyHold
from venustui.tui.logview import LogView
from venustui.tui.panes import (
    DriverPane,
    FencesPane,
    FindingsPane,
    GpuPane,
    HandlesPane,
    Pane,
    ProbePane,
    QueuesPane,
    RingPane,
    RunsPane,
    StatusLine,
    decode_text,
)
from venustui.tui.screens import ChoiceScreen, PromptScreen, TextScreen
from venustui.tuning import for_screen

strips.install()

THEMES = resources.files("venustui.tui") / "themes"  # package data: in the wheel, read through importlib
NARROW = 110  # below this width the log view becomes a tab like the panes
# The panes in tab order, each with its digit (the picker, P, lists them all as panes grow past nine).
PANES = (("tab-findings", "Findings"), ("tab-runs", "Runs"), ("tab-queues", "Queues"), ("tab-fences", "Fences"),
         ("tab-ring", "Ring"), ("tab-gpu", "GPU"), ("tab-handles", "Handles"), ("tab-probe", "Probe"),
         ("tab-driver", "Driver"))
FEEDBACK_KEYS = {"fence": "no_fence_feedback", "semaphore": "no_semaphore_feedback", "event": "no_event_feedback",
                 "query": "no_query_feedback"}


def load_themes() -> list[Theme]:
    themes = []
    for path in sorted((p for p in THEMES.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        themes.append(Theme(**data))
    return themes


class ActionCommands(Provider):
    """Every key's action in the command palette, by its description."""

    def _actions(self):
        app = self.app
        for binding in app.BINDINGS:
            label = f"{binding.description} ({binding.key})"
            yield label, binding.action

    async def discover(self) -> Hits:
        for label, action in self._actions():
            yield DiscoveryHit(label, partial(self.app.run_action, action), help=f"venustui: {label}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, action in self._actions():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self.app.run_action, action), help=label)


REDRAW_EVERY = 0.1  # seconds between redraws of the log views and panes after the model changed


class ModelChanged(Message):
    """The model changed: posted from the fold thread at most once until the app has handled it."""


class VenusApp(App):
    CSS = (resources.files("venustui.tui") / "app.tcss").read_text(encoding="utf-8")  # package data, as above
    COMMANDS = App.COMMANDS | {ActionCommands}
    TITLE = "venustui"
    BINDINGS = [
        Binding("f", "toggle('fence')", "no_fence_feedback"),
        Binding("x", "scenarios", "fault scenarios"),
        Binding("s", "toggle('semaphore')", "no_semaphore_fb"),
        Binding("e", "toggle('event')", "no_event_fb"),
        Binding("u", "toggle('query')", "no_query_fb"),
        Binding("p", "pick", "Flags…"),
        Binding("r", "rerun", "Rerun"),
        Binding("t", "triage", "Triage"),
        Binding("o", "probe", "Probe"),
        Binding("W", "watch_probe", "Probe watch"),
        Binding("b", "split", "Host|guest"),
        Binding("R", "record", "Rec pause"),
        Binding("m", "mark", "Mark"),
        Binding("d", "decode", "Decode"),
        Binding("slash", "search", "Search"),
        Binding("F", "filter", "Filter"),
        Binding("L", "log_time", "Log time"),
        Binding("j", "jump", "Evidence"),
        Binding("space", "play", "Play/pause", show=False),
        Binding("n", "step", "Step", show=False),
        Binding("left_square_bracket", "seek(-0.1)", "Back 10%", show=False),
        Binding("right_square_bracket", "seek(0.1)", "On 10%", show=False),
        Binding("z", "zoom", "Zoom"),
        Binding("T", "next_theme", "Theme"),
        Binding("1", "pane('tab-findings')", "Findings (2-9 other panes)"),
        *(Binding(str(k), f"pane('{tab}')", title, show=False) for k, (tab, title) in enumerate(PANES[1:], 2)),
        Binding("0", "to_log", "Log"),
        Binding("P", "pick_pane", "Pane…"),
        Binding("S", "sessions", "Sessions…", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, control: Control, *, theme_name: str = "venus-dark", subtitle: str = ""):
        super().__init__()
        self.control = control
        self.initial_theme = theme_name
        self.sub_title = subtitle
        self._themes = [t.name for t in load_themes()]
        self.narrow = self.split = self.zoomed = False  # the layout _arrange shows
        self._laid_out = False
        self.keyhold = KeyHold()
        self._change_posted = False
        self._redraw_timer = None
        self._last_redraw = 0.0
        self._panes: list[Pane] = []
        self._logs: list[LogView] = []
        self._jump = -1  # which finding's evidence line j jumped to last

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield LogView(self.control, id="log")
            yield LogView(self.control, id="log-guest")
            with TabbedContent(id="panes"):
                with TabPane("Log", id="tab-log"):
                    yield LogView(self.control, id="log-tab")
                with TabPane("Findings", id="tab-findings"):
                    yield VerticalScroll(FindingsPane(self.control, id="findings"))
                with TabPane("Runs", id="tab-runs"):
                    yield VerticalScroll(RunsPane(self.control, id="runs"))
                with TabPane("Queues", id="tab-queues"):
                    yield VerticalScroll(QueuesPane(self.control, id="queues"))
                with TabPane("Fences", id="tab-fences"):
                    yield VerticalScroll(FencesPane(self.control, id="fences"))
                with TabPane("Ring", id="tab-ring"):
                    yield VerticalScroll(RingPane(self.control, id="ring"))
                with TabPane("GPU", id="tab-gpu"):
                    yield VerticalScroll(GpuPane(self.control, id="gpu"))
                with TabPane("Handles", id="tab-handles"):
                    yield VerticalScroll(HandlesPane(self.control, id="handles"))
                with TabPane("Probe", id="tab-probe"):
                    yield VerticalScroll(ProbePane(self.control, id="probe"))
                with TabPane("Driver", id="tab-driver"):
                    yield VerticalScroll(DriverPane(self.control.driver_facts(), self.control.setup(), id="driver"))
        yield StatusLine(self.control, id="status")
        yield Footer()

    async def on_event(self, event: events.Event) -> None:
        """Answer a key before folding more lines. A key comes here first, goes to the focused widget
        and bubbles back (forwarded) to run its binding: folding resumes after the screen update
        that follows the binding, not after one that comes between the two passes."""
        if not isinstance(event, events.Key):
            await super().on_event(event)
            return
        bubbled = event.is_forwarded
        if not bubbled:
            self.keyhold.hold()
        await super().on_event(event)
        if bubbled or not event.is_forwarded:  # its binding has run (a priority one runs in the first pass)
            self.call_after_refresh(self.keyhold.release)

    def on_mount(self) -> None:
        for_screen()
        self.keyhold.attach(self.control)
        self._panes, self._logs = list(self.query(Pane)), list(self.query(LogView))
        self.control.follower.on_change = self._model_changed
        self._model_changed()
        for theme in load_themes():
            self.register_theme(theme)
        self.theme = self.initial_theme if self.initial_theme in self._themes else self._themes[0]
        self.query_one("#log", LogView).border_title = "host + guest"
        self._layout(self.size.width)

    # the model changed: one coalesced message, one timed redraw -------------------------------------
    def _model_changed(self) -> None:
        """From the fold thread: post one message until it is handled (a flood posts a few a second)."""
        if not self._change_posted:
            self._change_posted = True
            self.post_message(ModelChanged())

    def on_model_changed(self, message: ModelChanged) -> None:
        self._change_posted = False
        self.schedule_redraw()

    def schedule_redraw(self, delay: float | None = None) -> None:
        """Redraw once, REDRAW_EVERY after the last redraw at the soonest (changes in between join it)."""
        if self._redraw_timer is None:
            wait = max(0.0, self._last_redraw + REDRAW_EVERY - time.monotonic()) if delay is None else delay
            self._redraw_timer = self.set_timer(max(wait, 0.001), self._redraw)  # Textual's timers need > 0

    def _redraw(self) -> None:
        self._redraw_timer = None
        self._last_redraw = time.monotonic()
        for log in self._logs:
            log.refresh_lines()
        shown = [pane for pane in self._panes if pane.is_on_screen]
        if not shown:
            return
        # Never wait for the fold: if it holds the lock, try again after the next interval.
        if not self.control.lock.acquire(blocking=False):
            self.schedule_redraw()
            return
        try:
            owed = [pane for pane in shown if pane.update_from_model(self.control.version)]
        finally:
            self.control.lock.release()
        if owed:  # panes that redraw less often than this still owe the newest change
            self.schedule_redraw(min(pane.owed_in() for pane in owed))

    def on_resize(self, event) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        narrow = width < NARROW
        if narrow == self.narrow and self._laid_out:
            return  # a resize within the same layout: tabs stay as the user left them
        self.narrow, self._laid_out = narrow, True
        panes = self.query_one("#panes", TabbedContent)
        if narrow:
            panes.show_tab("tab-log")
        else:
            panes.hide_tab("tab-log")
            if panes.active == "tab-log":
                panes.active = "tab-findings"
        self._arrange()

    def _arrange(self) -> None:
        """Show and size the log views and panes for narrow, split and zoomed. Set on the three
        widgets themselves: a class on the app would restyle every node (50 ms a key press)."""
        log, guest = self.query_one("#log", LogView), self.query_one("#log-guest", LogView)
        panes = self.query_one("#panes", TabbedContent)
        log.display = self.zoomed or not self.narrow
        log.styles.width = "1fr" if self.zoomed else "3fr"
        guest.display = self.split
        panes.display = not (self.split or self.zoomed)
        panes.styles.width = "1fr" if self.narrow else "2fr"

    def active_log(self) -> LogView:
        if self.narrow:
            return self.query_one("#log-tab", LogView)
        return self.query_one("#log", LogView)

    # actions --------------------------------------------------------------------------------
    def action_toggle(self, which: str) -> None:
        name = FEEDBACK_KEYS[which]
        missing = self.control.missing_flag("VN_PERF", name)
        if missing:  # the driver would ignore it silently: say so instead of toggling a no-op
            self.notify(missing, severity="warning", timeout=12)
            return
        flags = self.control.toggle("VN_PERF", name)
        self.notify(f"flags for the next run: {flags.describe()} (r reruns)")

    def action_pick(self) -> None:
        def done(choice: str) -> None:
            if choice:
                variable, name = choice.split(":", 1)
                flags = self.control.toggle(variable, name)
                self.notify(f"flags: {flags.describe()}")

        flags = self.control.flags
        on = {"VN_PERF": flags.perf, "VN_DEBUG": flags.debug, "VKR_DEBUG": flags.vkr_debug}
        choices = [(f"{variable}:{name}", f"{'[x]' if name in on[variable] else '[ ]'} {variable}={name}")
                   for variable, names in self.control.known_flags().items() for name in names]
        self.push_screen(ChoiceScreen("flags for the next run (VKR_DEBUG restarts the lab's server)", choices), done)

    def action_scenarios(self) -> None:
        """A fault scenario of the lab (lab_scenarios): the lab restarts that way and plays its runs."""
        from venustui.lab_scenarios import SCENARIOS

        def done(choice: str) -> None:
            if choice and self.control.play_scenario(choice):
                self.notify(f"scenario {choice}: restarting the lab and playing its runs")

        self.push_screen(ChoiceScreen("fault scenarios (the lab restarts)",
                                      [(s.name, f"{s.name}: {s.summary}") for s in SCENARIOS]), done)

    def action_rerun(self) -> None:
        if self.control.rerun():
            self.notify(f"rerunning {self.control.target.name} with {self.control.flags.describe()}")

    def action_triage(self) -> None:
        if self.control.triage():
            self.notify("triage started: defaults, then feedback flags one at a time")

    def action_probe(self) -> None:
        if self.control.probe_now():
            self.notify("probe started")

    def action_watch_probe(self) -> None:
        self.notify(self.control.watch_probe())

    def action_split(self) -> None:
        """Host and guest side by side (sources named host… on the left), or merged again."""
        split = self.split = not self.split
        self._arrange()
        guest = self.query_one("#log-guest", LogView)
        log = self.query_one("#log", LogView)
        if split:
            log.set_filter("host", lambda line, kind: line.source.startswith("host"))
            guest.set_filter("guest", lambda line, kind: not line.source.startswith("host"))
        else:
            log.set_filter("", None)
        self.control.session.act("split", on=split)

    def action_record(self) -> None:
        self.notify(self.control.toggle_recording())

    def action_mark(self) -> None:
        line = self.active_log().current_line()
        if line is None:
            self.notify("no line under the cursor", severity="warning")
            return

        def done(note: str) -> None:
            if note and self.control.mark(line.seq, note):
                self.notify(f"marked line #{line.seq}")

        self.push_screen(PromptScreen(f"note for line #{line.seq}:"), done)

    def action_decode(self) -> None:
        line = self.active_log().current_line()
        values = find_handles(decode(line.data)) if line is not None else ()
        if not values:
            self.notify("no handle value on the line under the cursor", severity="warning")
            return
        self.control.session.act("decode", value=hex(values[0]))
        self.push_screen(TextScreen(f"0x{values[0]:x}", decode_text(values[0])))

    def action_search(self) -> None:
        def done(text: str) -> None:
            if not text:
                return
            self.control.session.act("search", text=text)
            log = self.active_log()
            seq = self.control.lines.search(text, log.number(log.cursor) if log.total else log.first)
            if seq is None:
                self.notify(f"'{text}' not found above the cursor", severity="warning")
            else:
                log.jump_to(seq)

        self.push_screen(PromptScreen("search (backwards from the cursor):"), done)

    def action_log_time(self) -> None:
        """Order the merged view by the lines' own stamps (each source's clock aligned), or by arrival again."""
        log = self.active_log()
        log.set_log_time(log.timeline is None)
        self.control.session.act("order", by="log time" if log.timeline is not None else "arrival")
        if log.timeline is not None:
            self.notify("ordered by log time: " + (log.timeline.describe() or "no lines yet"))
        else:
            self.notify("ordered by arrival")

    def action_filter(self) -> None:
        def done(text: str) -> None:
            log = self.active_log()
            text = text.strip()
            if not text:
                log.set_filter("", None)
                return
            key, _, value = text.partition("=")
            if key == "source":
                predicate = lambda line, kind: line.source == value or f"{line.source}:{line.stream}" == value  # noqa: E731
            elif key == "kind":
                predicate = lambda line, kind: FORMAT_NAMES[kind & 0x7F] == value  # noqa: E731
            elif key == "handle":
                needle = value.lower().encode()
                predicate = lambda line, kind: needle in line.data.lower()  # noqa: E731
            else:
                self.notify("filter: source=NAME, kind=FORMAT (mesa, vkr, vtest…), handle=0x…, or empty",
                            severity="warning")
                return
            self.control.session.act("filter", filter=text)
            log.set_filter(text, predicate)

        self.push_screen(PromptScreen("filter (source=host, kind=vkr, handle=0x50000000005; empty clears):"), done)

    def action_jump(self) -> None:
        """Move the log to the lines behind the findings, one evidence line per press."""
        from venustui.diagnose import diagnose

        with self.control.lock:
            evidence = [e for f in diagnose(self.control.session.model) for e in f.evidence]
        numbers = [n for n in (self.control.lines.number_of(e.seq) for e in evidence) if n is not None]
        if not numbers:
            self.notify("no finding points at a line still in view", severity="warning")
            return
        self._jump = (self._jump + 1) % len(numbers)
        self.active_log().jump_to(numbers[self._jump])
        self.active_log().focus()

    def action_play(self) -> None:
        if self.control.replayer is None:
            self.notify("space plays and pauses a replay (venustui replay FILE)")
        else:
            self.control.replayer.toggle()

    def action_step(self) -> None:
        if self.control.replayer is not None:
            self.control.replayer.step()

    def action_seek(self, fraction: float) -> None:
        if self.control.replayer is None:
            self.notify("[ and ] move a replay back and on (venustui replay FILE)")
            return
        target = self.control.replayer.seek(fraction)
        self.notify(f"replay {'back' if fraction < 0 else 'on'} to line {target:,}")

    def action_zoom(self) -> None:
        self.zoomed = not self.zoomed
        self._arrange()

    def action_next_theme(self) -> None:
        at = self._themes.index(self.theme) if self.theme in self._themes else -1
        self.theme = self._themes[(at + 1) % len(self._themes)]
        self.control.session.act("theme", name=self.theme)
        self.notify(f"theme {self.theme}")

    def action_pane(self, tab: str) -> None:
        """Bring a pane forward by its key (its tab), wherever the focus is."""
        panes = self.query_one("#panes", TabbedContent)
        if self.zoomed:
            self.action_zoom()  # a zoomed log hides the panes
        panes.active = tab
        self.control.session.act("pane", tab=tab)

    def action_to_log(self) -> None:
        """Back to the log: its tab when narrow, and the focus on it."""
        if self.narrow:
            self.query_one("#panes", TabbedContent).active = "tab-log"
        self.active_log().focus()

    def action_pick_pane(self) -> None:
        def done(tab: str) -> None:
            if tab == "tab-log":
                self.action_to_log()
            elif tab:
                self.action_pane(tab)

        choices = [(tab, f"{k}  {title}") for k, (tab, title) in enumerate(PANES, 1)] + [("tab-log", "0  Log")]
        self.push_screen(ChoiceScreen("panes", choices), done)

    def action_sessions(self) -> None:
        """The recorded sessions, newest first: the one picked is replayed in place of this screen."""
        found = paths.recorded_sessions()
        if not found:
            self.notify(f"no recorded sessions in {paths.sessions_dir()}", severity="warning")
            return

        def done(path: str) -> None:
            if path:
                self.control.stop()
                self.exit(result=("replay", path))

        choices = [(str(p), f"{k:3d}  {p.name}  {p.stat().st_size / 1e6:.1f} MB") for k, p in enumerate(found, 1)]
        self.push_screen(ChoiceScreen("recorded sessions (Enter replays one)", choices), done)

    def action_help(self) -> None:
        body = Text()
        for binding in self.BINDINGS:
            body.append(f"{binding.key:<14}", style="bold")
            body.append(f"{binding.description}\n")
        body.append("\nIn the log: ↑ ↓ PgUp PgDn move, End follows the end again, ← → move the text sideways by "
                    "half its width.\n")
        body.append("\nThe command palette (ctrl+p) lists every action too. Flags apply to the next rerun;"
                    " the guest's own vn_env line shows whether they took effect.\n")
        self.push_screen(TextScreen("keys", body))

    async def action_quit(self) -> None:
        self.control.stop()
        self.exit()
