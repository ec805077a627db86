"""Runs, said once: the runs the logs show (one line each) and the target runs side by side (A/B)."""

from __future__ import annotations

from venustui.model import Model, Run
from venustui.present import BAD, DIM, GOOD, PLAIN, WARN, Row


def _mask(label: str, mask: int | None, names: list[str]) -> str:
    if mask is None:
        return f"{label}=?"
    return f"{label}=0x{mask:x} ({', '.join(names) if names else 'none'})"


def run_line(run: Run) -> str:
    steps = f"steps {run.steps[0].num}-{run.steps[-1].num}" if run.steps else "no steps"
    feedback = ""
    if run.feedback():
        on = [kind for kind, enabled in run.feedback().items() if enabled]
        feedback = f"  feedback slots: {', '.join(on) if on else 'none'}"
    if "slot_allocation" in run.facts:
        feedback += f" (fence slot allocation {run.facts['slot_allocation']})"
    device = f"  on {run.facts['vulkan_device']}" if "vulkan_device" in run.facts else ""
    return (f"run {run.id}  {run.source}  {_mask('debug', run.debug_mask, run.debug_names)} "
            f"{_mask('perf', run.perf_mask, run.perf_names)}{feedback}{device}  {steps}: {run.outcome()}")


def run_rows(model: Model) -> list[Row]:
    """The runs the logs show, a failed one marked."""
    return [Row(run_line(run), BAD if "failed" in run.outcome() else PLAIN) for run in model.runs]


def target_rows(model: Model) -> list[Row]:
    """Target runs side by side: number, phase, flags and outcome, coloured by outcome."""
    rows = []
    for target in model.targets.values():
        outcome = target.outcome.get("text", "running…")
        tone = GOOD if target.outcome.get("status") == "passed" else (WARN if not target.outcome else BAD)
        rows.append(Row(f"#{target.id:<3} {target.phase:<5} {target.flags or 'defaults':<28} {outcome}", tone))
    return rows


def nothing_yet() -> Row:
    return Row("no runs yet: r reruns the target, o probes", DIM)
