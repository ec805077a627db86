"""The panes beside the log view: the model said as tables of rows, the status line, a decoded handle."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from venustui import handles as H
from venustui.control import Control
from venustui.diagnose import diagnose
from venustui.parse.text import visible
from venustui.present import hexs
from venustui.present.fences import fence_rows, probe_fence_rows, queue_rows
from venustui.present.gpu import gpus_rows
from venustui.present.ring import ring_rows
from venustui.present.runs import nothing_yet, run_rows, target_rows
from venustui.textview import TONE_STYLE


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


class GpuPane(Pane):
    """The guest's virtio-gpu device (features, capsets, host memory window, host errors) and the Vulkan devices
    the logs name (driver, host GPU behind Venus)."""

    def content(self) -> Text:
        out = Text()
        said(out, gpus_rows(self.control.session.model))
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
    top = None  # the top finding last computed

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
        for status in self.app.query(StatusLine):  # its next-key hint follows the top finding at once
            status.tick()

    def content(self) -> Text:
        found = diagnose(self.control.session.model, self.control.versions())
        self.top = found[0] if found and found[0].severity != "info" else None  # the status line's next key
        out = Text()
        for rank, finding in enumerate(found):
            top = rank == 0 and finding.severity != "info"
            label = "TOP " if top else ""
            out.append(visible(f"{label}{finding.severity.upper()} ({finding.confidence}): {finding.claim}\n"),
                       style=self.STYLE[finding.severity])
            for evidence in finding.evidence[:4]:
                out.append(visible(f"   #{evidence.seq} {evidence.source}: {evidence.text[:160]}\n"), style="dim")
            if top and "fix" in finding.details:
                out.append(visible(f"   fix: {finding.details['fix']}\n"))
            for cause, tells in finding.candidates:
                out.append(visible(f"   candidate {cause}: {tells}\n"))
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

    def __init__(self, facts: list[dict], setup: str = "", **kwargs):
        super().__init__(**kwargs)
        self.facts = facts
        self.setup = setup  # the lab pair in use, with its versions

    def on_mount(self) -> None:
        from venustui.textview import inspect_lines

        out = Text()
        if self.setup:
            out.append(f"lab pair {self.setup}\n\n", style="bold")
        for entry in self.facts:
            for line in inspect_lines(entry):
                out.append_text(line)
                out.append("\n")
        if not self.facts:
            out.append("no driver to inspect here (the lab is not in use): venustui inspect --icd virtio", style="dim")
        self.update(out)


# The next useful key after a top finding, for a newcomer (the status line shows it).
NEXT_KEY = {
    "fence-not-signaled": "f then r: rerun without fence feedback",
    "stuck-fence-alive": "f then r: rerun without fence feedback",
    "fence-waits-host-answers": "f then r: rerun without fence feedback",
    "feedback-broken": "j: the evidence · o: probe the map phase",
    "feedback-ab": "j: the evidence · 2: the runs side by side",
    "cannot-map": "o: probe the map phase · j: the evidence",
    "flag-ignored": "p: the flags this driver knows",
}


class StatusLine(Static):
    def __init__(self, control: Control, **kwargs):
        super().__init__(**kwargs)
        self.control = control
        self._shown = ""
        self._findings = None  # the Findings pane, whose top finding names the next useful key

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
        down = [f" · {source} down: {notice.message}" for source, notice in list(control.session.model.source_state.items())
                if notice.kind == "exited" and "restart_in" in notice.detail or notice.kind == "error"]
        message = "".join(down) + message
        hint = ""
        if self._findings is None and self.is_mounted:  # looked up once, not on every tick
            self._findings = self.app.query_one("#findings")
        top = getattr(self._findings, "top", None)
        if top is not None and not control.messages:
            hint = " · " + NEXT_KEY.get(top.rule, "1: the findings, j: their evidence")
        line = visible(f"flags: {control.flags.describe()} · {record}{busy}{message}{hint}")
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


