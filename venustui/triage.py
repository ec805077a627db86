"""A/B runs and the search for the smallest flag set that makes a failing phase pass.

Runs the target with the defaults, then with candidate VN_PERF names (feedback flags
first), one at a time; if no single name helps, all candidates together and then the
set is shrunk one name at a time. Every run's outcome, flags and environment delta are
kept, and names the driver would ignore are said so, not silently tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from venustui.flags import FlagCheck, FlagSet, candidates, check_names, took_effect
from venustui.parse.venus_flags import Version
from venustui.probe.runner import HUNG, Runner, RunRecord, Target, step_call


@dataclass
class TriageResult:
    target: str
    phase: str
    runs: list[RunRecord] = field(default_factory=list)
    smallest: tuple[str, ...] | None = None
    ignored: list[FlagCheck] = field(default_factory=list)
    not_effective: list[str] = field(default_factory=list)
    known: list[str] | None = None  # the VN_PERF names the loaded driver's own table holds, when read

    def finding(self) -> str:
        base = self.runs[0].outcome
        if base.passed:
            if self.phase == "fence" and self.known is not None and "no_fence_feedback" not in self.known:
                return (f"{self.phase} phase passes with the defaults: nothing to toggle. This driver has no "
                        "no_fence_feedback (Mesa 26.2 removed fence feedback: fences are guest-side renderer "
                        "syncs, with no feedback slot to turn off)")
            return f"{self.phase} phase passes with the defaults: nothing to triage"
        how = describe_failure(base)
        if self.smallest is None:
            return f"{self.phase} phase {how} with the defaults, and no flag set tried makes it pass"
        return f"{self.phase} phase {how} with the defaults; passes with {','.join(self.smallest)}"

    def as_dict(self) -> dict:
        return {"target": self.target, "phase": self.phase, "finding": self.finding(),
                "smallest": list(self.smallest) if self.smallest is not None else None,
                "runs": [r.as_dict() for r in self.runs],
                "ignored": [{"name": c.name, "why": c.problem} for c in self.ignored],
                "not_effective": self.not_effective}


def describe_failure(outcome) -> str:
    call = step_call(outcome.step)
    if outcome.status == HUNG:
        return f"hangs in {call}" if outcome.step else "hangs"
    return outcome.text().replace(f"at {outcome.step}", f"in {call}", 1)


def triage(runner: Runner, target: Target, *, phase: str | None = None, names: list[str] | None = None,
           version: Version | None = None, known: list[str] | None = None, bits: dict[str, int] | None = None,
           on_run=None) -> TriageResult:
    phase = phase or target.phases[0]
    result = TriageResult(target.name, phase, known=list(known) if known is not None else None)
    pool = names if names is not None else candidates(version)
    checks = check_names("VN_PERF", pool, version, known)
    result.ignored = [c for c in checks if c.problem]
    usable = [c.name for c in checks if not c.problem]

    def attempt(flags: FlagSet) -> bool:
        record = runner.run(target, flags, phase)
        result.runs.append(record)
        if on_run is not None:
            on_run(record)
        effect = took_effect(flags.perf, record.perf_mask, version, bits)
        result.not_effective += [n for n, ok in effect.items() if ok is False and n not in result.not_effective]
        return record.outcome.passed

    if attempt(FlagSet()):
        return result
    for name in usable:
        if attempt(FlagSet(perf=(name,))):
            result.smallest = (name,)
            return result
    if len(usable) > 1 and attempt(FlagSet(perf=tuple(usable))):
        needed = list(usable)
        for name in list(usable):  # shrink: drop each name the phase still passes without
            trial = [n for n in needed if n != name]
            if trial and attempt(FlagSet(perf=tuple(trial))):
                needed = trial
        result.smallest = tuple(needed)
    return result
