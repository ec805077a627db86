"""The panes: a log view over the line store (Line API, nothing rendered off screen) and model tables."""

from __future__ import annotations

import time
from collections import OrderedDict

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBarRender
from textual.strip import Strip
from textual.widgets import Static

from venustui import handles as H
from venustui.control import Control
from venustui.diagnose import diagnose
from venustui.index import FORMAT_NAMES
from venustui.parse import Parser
from venustui.parse.text import shown, visible
from venustui.present import hexs
from venustui.present.fences import fence_rows, probe_fence_rows, queue_rows
from venustui.present.ring import ring_rows
from venustui.present.runs import nothing_yet, run_rows, target_rows
from venustui.textview import TONE_STYLE

CURSOR = Style(reverse=True)
TAG_WIDTH = 11  # the source tag before each line's text
SHOWN_CHARACTERS = 2000  # of a line's text, on screen


def line_styles(variables: dict[str, str]) -> dict[str, str]:
    """A log line's style by kind and level, from the theme's variables (themes/*.toml: kind-vkr, level-warn...)."""
    return {name: variables.get(name, "") for name in [f"kind-{kind}" for kind in FORMAT_NAMES if kind != "text"]
            + ["level-warn", "level-error"]}


class LogView(ScrollView, can_focus=True):
    """Host and guest lines merged in arrival order, each tagged with source and stream, coloured by kind."""

    BINDINGS = [("up", "cursor(-1)", "Up"), ("down", "cursor(1)", "Down"), ("pageup", "cursor(-20)", "Page up"),
                ("pagedown", "cursor(20)", "Page down"), ("end", "follow", "Follow"),
                Binding("left", "sideways(-1)", "Sideways", show=False),
                Binding("right", "sideways(1)", "Sideways", show=False)]
    follow = reactive(True)
    cursor = reactive(0)
    shift = reactive(0)  # columns of line text scrolled out on the left (the source tag stays)

    def __init__(self, control: Control, **kwargs):
        super().__init__(**kwargs)
        self.control = control
        self.parser = Parser()  # for display only: the model's parser has already folded these lines
        self._cache: OrderedDict[int, Text] = OrderedDict()
        self._styles: dict[str, str] = {}  # line colours by kind and level, from the theme
        # Rendered rows, the same Strip across frames: Textual caches what it derives from a strip
        # (crops, filters, styles) on the strip itself, so a fresh one per frame redid all of it.
        self._strips: OrderedDict[tuple[int, Segment | None, int, int], Strip] = OrderedDict()  # line, bar, width, shift
        self._bar: list[Segment] | None = None  # this frame's scrollbar, a segment per row
        self._base = Style()  # this frame's background and colour under the rows
        self._seen = -1
        self.filter = None  # (description, predicate(line, kind)) or None
        self._rows: list[int] = []  # the line numbers shown when filtering
        self._scanned = 0
        self._store = control.lines
        self.total = 0  # rows there are lines for (in follow mode the virtual height runs ahead of it)

    def on_mount(self) -> None:
        # New lines are drawn when the app says the model changed (VenusApp._redraw), not on a timer.
        self.watch(self.app, "theme", self._restyle)

    def _restyle(self) -> None:
        """The theme's line colours; lines styled with the last theme's go."""
        self._styles = line_styles(self.app.current_theme.variables)
        self._cache.clear()
        self._strips.clear()
        self.refresh()

    def on_show(self) -> None:
        self.refresh_lines()  # a hidden view does not follow (below): catch up once shown

    @property
    def first(self) -> int:
        return self.control.lines.first

    def set_filter(self, description: str, predicate) -> None:
        self.filter = (description, predicate) if predicate else None
        self._rows, self._scanned, self._seen = [], 0, -1
        self.border_title = f"host + guest · filter {description}" if predicate else "host + guest"
        self.follow = True
        self.refresh_lines()

    def number(self, index: int) -> int:
        """The store line number shown at row index."""
        return self._rows[index] if self.filter else self.first + index

    def refresh_lines(self) -> None:
        if not self.is_on_screen:  # the log tab on a wide screen, the main view on a narrow one, ...
            return
        store = self.control.lines
        if store is not self._store:  # a replay moved back: the same lines come again, from the start
            self._store, self._rows, self._scanned, self._seen = store, [], 0, -1
            self.cursor = min(self.cursor, max(0, store.total - 1))
        if self.filter:
            start = max(self._scanned, store.first)
            self._rows = [n for n in self._rows if n >= store.first] + store.matching(self.filter[1], start)
            self._scanned = store.total
            total = len(self._rows)
        else:
            total = store.total - store.first
        # Past the store's cap, old lines leave as new ones come: the height stays, the rows move.
        state = (store.total, store.first, total)
        if state == self._seen:  # nothing new: no re-render, only finish a scroll the layout delayed
            if self.follow and self.scroll_offset.y < self._last_page(total):
                self.scroll_to(y=self._last_page(total), animate=False, immediate=True)
            return
        self.total = total
        self._set_height(total)
        if self.follow:
            self.cursor = max(0, total - 1)
            self.scroll_to(y=self._last_page(total), animate=False, immediate=True)
        self.border_subtitle = self._where()
        self._seen = state
        self.refresh()

    def _set_height(self, height: int) -> None:
        """The virtual height, without a layout pass of the whole screen: this view's own size is set
        by its container, and it draws its own scrollbar (render_lines). Textual's ScrollBar widgets
        ask for a second layout pass after any layout that changes their parent's size (a zoom), and
        setting virtual_size asks for one, 10 a second under a flood (a Pilot test counts them). No
        width: ← and → shift the rows' text themselves (action_sideways), which needs no layout."""
        size = Size(0, height)
        if size != self.virtual_size:
            self.set_reactive(LogView.virtual_size, size)
            if self.scroll_offset.y > self.max_scroll_y:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    @property
    def allow_vertical_scroll(self) -> bool:
        return self.max_scroll_y > 0  # the mouse wheel scrolls, though Textual's scrollbar is off

    def _last_page(self, total: int) -> int:
        """The scroll offset that shows the last line at the bottom."""
        return max(0, total - self.scrollable_content_region.height)

    def _text(self, number: int) -> Text:
        cached = self._cache.get(number)
        if cached is not None:
            self._cache.move_to_end(number)
            return cached
        found = self.control.lines.line(number)
        if found is None:
            return Text("")
        line, kind = found
        fmt = FORMAT_NAMES[kind & 0x7F]
        records = self.parser.parse(line) if kind & 0x80 or fmt != "text" else []
        level = records[0].level if records else "info"
        styles = self._styles
        where = line.source if line.stream in ("file", "stdin") else f"{line.source}:{line.stream[3:]}"
        text = Text(f"{where[:TAG_WIDTH - 1]:<{TAG_WIDTH - 1}} ", style="dim")
        text.append(shown(line.data, SHOWN_CHARACTERS),
                    style=styles.get(f"level-{level}") or styles.get(f"kind-{fmt}", ""))
        self._cache[number] = text
        if len(self._cache) > 4000:
            self._cache.popitem(last=False)
        return text

    def render_lines(self, crop):
        """Textual's scrollbar look, drawn in the view's last columns (see _set_height for why)."""
        height, total = self.size.height, self.total
        if total > height > 0:
            styles = self.styles
            track = styles.scrollbar_background
            if track.a < 1:
                track = self.background_colors[0] + track
            bar = ScrollBarRender.render_bar(size=height, virtual_size=total, window_size=height,
                                             position=self.scroll_offset.y, thickness=styles.scrollbar_size_vertical,
                                             back_color=track.rich_color,
                                             bar_color=(track + styles.scrollbar_color).rich_color)
            # Without the mouse actions of Textual's ScrollBar widget, which this view does not have.
            self._bar = [Segment(cell.text, cell.style.clear_meta_and_links()) for cell in bar.segments]
        else:
            self._bar = None
        self._base = self.rich_style  # worked out from the ancestors' styles: once a frame, not once a row
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        bar = self._bar[y] if self._bar is not None and y < len(self._bar) else None
        index = self.scroll_offset.y + y
        number = self.number(index) if index < self.total else None
        if number is None or number >= self.control.lines.total:
            number = -1  # no line: a blank row
        cursor = number >= 0 and index == self.cursor and self.has_focus
        key = (number, bar, width, self.shift)
        strip = self._strips.get(key)
        if strip is None or cursor:
            text_width = width - (bar.cell_length if bar else 0)
            row = Strip([]) if number < 0 else Strip(self._text(number).render(self.app.console))
            if self.shift:
                row = Strip.join([row.crop(0, TAG_WIDTH), row.crop(TAG_WIDTH + self.shift)])
            # Under the text's own colours, the view's (its CSS background and colour): Textual leaves
            # a line's unstyled cells to the terminal's default background, dark in a light theme.
            row = row.crop_extend(0, text_width, None).apply_style(self._base)
            if cursor:
                row = row.apply_style(CURSOR)
            strip = Strip.join([row, Strip([bar], bar.cell_length)]) if bar else row
            if not cursor:
                self._strips[key] = strip
                if len(self._strips) > 1000:
                    self._strips.popitem(last=False)
        return strip

    def watch_cursor(self) -> None:
        self.refresh()

    def action_sideways(self, direction: int) -> None:
        """Half the text's width left or right, as less -S does; lines show up to 2000 characters."""
        step = max(8, (self.size.width - TAG_WIDTH) // 2)
        self.shift = max(0, min(SHOWN_CHARACTERS, self.shift + direction * step))

    def watch_shift(self) -> None:
        self.border_subtitle = self._where()
        self.refresh()

    def _where(self) -> str:
        where = "following" if self.follow else f"+{self.total - 1 - self.cursor:,} lines below (End follows)"
        return f"{where} · from column {self.shift + 1} (← back)" if self.shift else where

    def on_resize(self) -> None:
        self._seen = -1  # the size changed: lay out and follow again
        self.refresh_lines()

    def action_cursor(self, delta: int) -> None:
        total = self.total
        self.cursor = max(0, min(total - 1, self.cursor + delta))
        self.follow = self.cursor >= total - 1
        if self.cursor < self.scroll_offset.y or self.cursor >= self.scroll_offset.y + self.size.height:
            self.scroll_to(y=max(0, self.cursor - self.size.height // 2), animate=False)
        self.refresh()

    def action_follow(self) -> None:
        self.follow = True
        self.refresh_lines()

    def current_line(self):
        if self.total == 0:
            return None
        found = self.control.lines.line(self.number(min(self.cursor, self.total - 1)))
        return found[0] if found else None

    def jump_to(self, number: int) -> None:
        if self.filter:
            self.set_filter("", None)
        self.follow = False
        self.cursor = max(0, number - self.first)
        self.scroll_to(y=max(0, self.cursor - self.size.height // 2), animate=False)
        self.refresh()


def _line_lengths(text: Text) -> list[int]:
    return [len(line) for line in text.plain.split("\n")]


class Pane(Static):
    """A pane that redraws from the model when the app says it changed (and the pane is shown)."""

    INTERVAL = 0.25  # the most often a pane redraws: redrawing all of them on every change took keys' time

    def __init__(self, control: Control, **kwargs):
        super().__init__(**kwargs)
        self.control = control
        self._version = -1
        self._drawn_at = -1e9
        self._shown: Text | None = None
        self._shown_lengths: list[int] | None = None  # of _shown's lines: a change may change the height

    def on_show(self) -> None:
        # Its tab was chosen (or a zoom ended): the key's own screen update first, then the model as it is now.
        self._drawn_at = -1e9
        self.call_after_refresh(self._draw_now)

    def _draw_now(self) -> None:
        if not self.control.lock.acquire(blocking=False):  # the fold has it: the next redraw draws this too
            self.app.schedule_redraw()
            return
        try:
            self.update_from_model(self.control.version)
        finally:
            self.control.lock.release()

    def owed_in(self) -> float:
        """Seconds until this pane may redraw again."""
        return max(0.0, self._drawn_at + self.INTERVAL - time.monotonic())

    def update_from_model(self, version: int) -> bool:
        """Redraw if the model changed since the last redraw (the app holds the lock); True while a change
        is still owed (it came sooner than INTERVAL after the last redraw)."""
        if version == self._version:
            return False
        if self.owed_in() > 0:
            return True
        self._version, self._drawn_at = version, time.monotonic()
        self._show(self.content())
        return False

    def _show(self, content: Text) -> None:
        if content == self._shown:  # a flood bumps the version without changing what a pane says
            return
        # A layout pass (the whole screen) only when the pane's height may change: other lines, or
        # lines of other lengths (they wrap).
        lengths = _line_lengths(content)
        layout = lengths != self._shown_lengths
        self._shown, self._shown_lengths = content, lengths
        self.update(content, layout=layout)

    def content(self) -> Text:
        raise AssertionError("each pane says what it shows")


class RunsPane(Pane):
    def content(self) -> Text:
        model = self.control.session.model
        out = Text()
        if model.targets:
            out.append("Target runs (A/B)\n", style="bold")
            said(out, target_rows(model))
        out.append("Runs in the logs\n", style="bold")
        said(out, run_rows(model) or ([] if model.targets else [nothing_yet()]))
        return out


class QueuesPane(Pane):
    def content(self) -> Text:
        model = self.control.session.model
        out = Text()
        said(out, queue_rows(model))
        if not out.plain:
            out.append("no queues seen yet (vkGetDeviceQueue on the host, the Queue step in the guest)", style="dim")
        return out


FENCES_SHOWN = 200


class FencesPane(Pane):
    def content(self) -> Text:
        model = self.control.session.model
        out = Text()
        said(out, fence_rows(model, newest=FENCES_SHOWN) + probe_fence_rows(model))
        if not out.plain:
            out.append("no fences seen yet", style="dim")
        return out


class RingPane(Pane):
    def content(self) -> Text:
        out = Text()
        said(out, ring_rows(self.control.session.model))
        return out


def said(out: Text, rows) -> None:
    """Rows of the presentation modules, in the tones' styles; log text made visible."""
    for row in rows:
        out.append(visible(row.text) + "\n", style=TONE_STYLE[row.tone])


class HandlesPane(Pane):
    def content(self) -> Text:
        model = self.control.session.model
        out = Text()
        shown = model.handles.most_seen(60)
        for seen in shown:
            best = H.decode(seen.value)[0]
            runs = ",".join(map(str, sorted(seen.runs))) or "-"
            out.append(visible(f"{hexs(seen.value):<18} ×{seen.count:<5} runs {runs:<8} "
                               f"{'/'.join(sorted(seen.roles)) or '':<10} {best.title}\n"),
                       style="bold" if best.key == "validation-id" else "")
        if not shown:
            out.append("no handle values seen yet (d decodes the one under the cursor)", style="dim")
        return out


class FindingsPane(Pane):
    STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}
    INTERVAL = 1.0  # the rules read the whole model: once a second is enough

    _computing = False

    def update_from_model(self, version: int) -> bool:
        """The rules read the whole model (tens of ms on a flood): they run on a worker thread, so the
        event loop stays free for keys; the pane shows the result when it is ready."""
        if version == self._version:
            return False
        if self._computing or self.owed_in() > 0:
            return True
        self._computing, self._drawn_at = True, time.monotonic()
        self.run_worker(lambda: self._compute(version), thread=True, exclusive=True, group="findings")
        return False

    def _compute(self, version: int) -> None:
        try:
            self.app.keyhold.wait()
            with self.control.lock:
                content = self.content()
            if self.app.is_running:  # not while the app shuts down: the result has nowhere to go
                self.app.call_from_thread(self._done, content, version)
        finally:
            self._computing = False

    def _done(self, content: Text, version: int) -> None:
        self._version = version
        self._show(content)

    def content(self) -> Text:
        found = diagnose(self.control.session.model)
        out = Text()
        for finding in found:
            out.append(visible(f"{finding.severity.upper()}: {finding.claim}\n"), style=self.STYLE[finding.severity])
            for evidence in finding.evidence[:4]:
                out.append(visible(f"   #{evidence.seq} {evidence.source}: {evidence.text[:160]}\n"), style="dim")
            if finding.next_step:
                out.append(visible(f"   next: {finding.next_step}\n"))
        if not found:
            out.append("no findings yet", style="dim")
        return out


class ProbePane(Pane):
    """What the probe reported, run by run: each step's result and time, the slot beside the fence."""

    def content(self) -> Text:
        out = Text()
        for target in self.control.session.model.targets.values():
            outcome = target.outcome.get("text", "running…")
            out.append(visible(f"#{target.id} {target.target} {target.phase} [{target.flags or 'defaults'}]: {outcome}\n"),
                       style="bold green" if target.outcome.get("status") == "passed" else "bold red")
            for step in target.steps[-16:]:
                ok = step.get("result") in ("VK_SUCCESS", "VK_NOT_READY")
                extra = "".join(f" {k}={step[k]}" for k in ("handle", "fence_ms", "slot_ms", "polls") if step.get(k)
                                is not None and k in step)
                out.append(visible(f"   {step.get('step', ''):<14} {step.get('result', ''):<18} "
                                   f"{step.get('ms', 0):>8.3f} ms{extra}\n"), style="" if ok else "red")
            for sample in list(target.samples)[-8:]:
                fence = "signaled" if sample.get("fence_ms") is not None else "NOT signaled"
                slot = sample.get("slot_ms")
                out.append(visible(f"   sample: fence {fence}"
                                   + (f", slot {'written' if slot is not None else 'never written'}" if "slot_ms" in sample
                                      else "") + "\n"), style="dim")
        if not out.plain:
            out.append("no probe runs yet: o probes now, r reruns the target", style="dim")
        return out


class DriverPane(Static):
    """The ELF facts of what is loaded: the Venus driver and the render server (computed once)."""

    def __init__(self, facts: list[dict], **kwargs):
        super().__init__(**kwargs)
        self.facts = facts

    def on_mount(self) -> None:
        from venustui.textview import inspect_lines

        out = Text()
        for entry in self.facts:
            for line in inspect_lines(entry):
                out.append_text(line)
                out.append("\n")
        if not self.facts:
            out.append("no driver to inspect here (the lab is not in use): venustui inspect --icd virtio", style="dim")
        self.update(out)


class StatusLine(Static):
    def __init__(self, control: Control, **kwargs):
        super().__init__(**kwargs)
        self.control = control
        self._shown = ""

    def on_mount(self) -> None:
        self.set_interval(0.25, self.tick)
        self.tick()

    def tick(self) -> None:
        control = self.control
        recorder = control.session.recorder
        if recorder is None:
            record = "not recording"
        elif recorder.stopped:
            record = f"recording stopped: {recorder.stopped}"
        elif recorder.paused:
            record = "recording paused"
        else:
            record = f"rec {recorder.path.name} {recorder.bytes_written / 1e6:.1f} MB"
        busy = f" · {control.busy}…" if control.busy else ""
        replayer = control.replayer
        if replayer is not None:
            state = "playing" if replayer.playing.is_set() else "paused (space plays, n steps)"
            busy += (f" · replay {scrubber(replayer.position, replayer.total)} "
                     f"{replayer.position:,}/{replayer.total:,} {state} ([ ] move)")
        message = f" · {control.messages[-1]}" if control.messages else ""
        line = visible(f"flags: {control.flags.describe()} · {record}{busy}{message}")
        if line != self._shown:  # one row, fixed height: no layout pass, and none at all when unchanged
            self._shown = line
            self.update(Text(line, no_wrap=True, overflow="ellipsis"), layout=False)


def scrubber(position: int, total: int, width: int = 12) -> str:
    """Where a replay is, as a bar: ▕██████▌·····▏."""
    filled = width * 2 * position // total if total > 0 else 0
    return "▕" + "█" * (filled // 2) + ("▌" if filled % 2 else "") + "·" * (width - (filled + 1) // 2) + "▏"


def decode_text(value: int) -> Text:
    out = Text()
    for rank, layout in enumerate(H.decode(value), 1):
        out.append(f"{rank}. {layout.title} [{layout.score:.2f}]\n", style="bold" if rank == 1 else "")
        out.append(visible(layout.explanation) + "\n")
        for row in H.bit_diagram(value, layout.fields):
            out.append("   " + row + "\n", style="dim")
    return out


