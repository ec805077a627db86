"""The log view: host and guest lines over the line store (Textual's Line API: nothing rendered off screen)."""

from __future__ import annotations

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

from venustui.control import Control
from venustui.index import FORMAT_NAMES
from venustui.logtime import Timeline
from venustui.parse import Parser
from venustui.parse.text import decode, shown

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
        self._rows: list[int] = []  # the line numbers shown when filtering or ordering by log time
        self._matching: set[int] = set()  # the lines a filter lets through, when also ordering by log time
        self._scanned = 0
        self._store = control.lines
        self.total = 0  # rows there are lines for (in follow mode the virtual height runs ahead of it)
        self.timeline: Timeline | None = None  # lines ordered by their own stamps (L), else arrival order
        self._timed = 0  # store lines added to the timeline so far

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
        self._rows, self._scanned, self._seen, self._matching = [], 0, -1, set()
        self.border_title = self._title()
        self.follow = True
        self.refresh_lines()

    def set_log_time(self, on: bool) -> None:
        """Order the lines by their own stamps (each source's clock aligned to arrival), or by arrival."""
        self.timeline = Timeline() if on else None
        self._timed, self._seen = self.control.lines.first, -1
        self._rows, self._scanned = [], 0
        self.refresh_lines()
        self.border_title = self._title()

    def _title(self) -> str:
        title = "host + guest" + (f" · filter {self.filter[0]}" if self.filter else "")
        if self.timeline is not None:
            title += " · log time: " + (self.timeline.describe() or "no lines yet")
        return title

    def number(self, index: int) -> int:
        """The store line number shown at row index."""
        return self._rows[index] if self.filter or self.timeline is not None else self.first + index

    def refresh_lines(self) -> None:
        if not self.is_on_screen:  # the log tab on a wide screen, the main view on a narrow one, ...
            return
        store = self.control.lines
        if store is not self._store:  # a replay moved back: the same lines come again, from the start
            self._store, self._rows, self._scanned, self._seen = store, [], 0, -1
            self.cursor = min(self.cursor, max(0, store.total - 1))
        if self.timeline is not None:
            if store.total > self._timed:
                self._add_to_timeline(store)
                self.border_title = self._title()
            rows = self.timeline.order(store.first).tolist()
            if self.filter:
                start = max(self._scanned, store.first)
                self._matching = {n for n in self._matching if n >= store.first}
                self._matching.update(store.matching(self.filter[1], start))
                self._scanned = store.total
                rows = [n for n in rows if n in self._matching]
            self._rows = rows
            total = len(rows)
        elif self.filter:
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

    def _add_to_timeline(self, store) -> None:
        lines = []
        for number in range(max(self._timed, store.first), store.total):
            found = store.line(number)
            if found is not None:
                line = found[0]
                lines.append((number, line.source, line.wall, decode(line.data[:200])))
        self.timeline.add(lines)
        self._timed = store.total

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
        where = line.source if line.stream in ("file", "stdin", "serial") else f"{line.source}:{line.stream[3:]}"
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
        if self.timeline is not None:
            self.refresh_lines()
            self.cursor = self._rows.index(number) if number in self._rows else 0
        else:
            self.cursor = max(0, number - self.first)
        self.scroll_to(y=max(0, self.cursor - self.size.height // 2), animate=False)
        self.refresh()
