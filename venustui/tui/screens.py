"""The TUI's modal screens: a page of text (help, a decoded handle), a one-line prompt, and a list to pick one
from (flags, panes, recorded sessions)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option


class TextScreen(ModalScreen):
    """A modal page of text (help, a decoded handle); any key closes it."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, title: str, body: Text):
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="modal"):
            yield Static(Text(self.title_text, style="bold"))
            yield Static(self.body)


class PromptScreen(ModalScreen[str]):
    """One line of input (a search, a note for a mark)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str):
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="modal"):
            yield Static(self.prompt)
            yield Input(id="prompt")

    def on_mount(self) -> None:
        self.query_one("#prompt", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss("")


class ChoiceScreen(ModalScreen[str]):
    """A list to pick one from (flags, panes, recorded sessions); Enter picks, Escape closes."""

    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, title: str, choices: list[tuple[str, str]]):
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="modal"):
            yield Static(Text(self.title_text, style="bold"))
            yield OptionList(*(Option(label, id=key) for key, label in self.choices), id="choices")

    def on_mount(self) -> None:
        self.query_one("#choices", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss("")
