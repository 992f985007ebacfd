"""Grading every mutant of a challenge's reference solution (webapp/grading/mutants.py) and
counting which the hidden tests kill, which are listed as equivalent, and which survive."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from webapp.grading.mutants import Mutant, mutants_of
from webapp.grading.verification import SolutionGrader
from webapp.questions.bank import LimitsSpec

THREADS = 2


@dataclass(frozen=True)
class MutantOutcome:
    mutant: Mutant
    score: int | None  # None: the grader failed on it
    failing: tuple[str, ...]
    equivalent: str | None  # the bank's reason, if listed
    error: str = ""

    @property
    def killed(self) -> bool:
        return self.score is not None and self.score < 100


@dataclass
class ChallengeMutation:
    slug: str
    outcomes: list[MutantOutcome] = field(default_factory=list)
    unknown_equivalents: list[str] = field(default_factory=list)  # listed ids no mutant has any more

    @property
    def killed(self) -> list[MutantOutcome]:
        return [o for o in self.outcomes if o.killed]

    @property
    def equivalent(self) -> list[MutantOutcome]:
        return [o for o in self.outcomes if o.equivalent and not o.killed]

    @property
    def survived(self) -> list[MutantOutcome]:
        """Not killed and not explained: a missing test (or an equivalent mutant not yet listed)."""
        return [o for o in self.outcomes if not o.killed and not o.equivalent]

    @property
    def listed_but_killed(self) -> list[MutantOutcome]:
        return [o for o in self.outcomes if o.equivalent and o.killed]

    @property
    def kill_rate(self) -> float:
        """Share of the non-equivalent mutants killed (1.0 when there are none)."""
        candidates = len(self.outcomes) - len(self.equivalent)
        return len(self.killed) / candidates if candidates else 1.0


def analyse(grade: SolutionGrader, *, slug: str, reference: str, hidden_tests: str, limits: LimitsSpec | None,
            equivalent: Mapping[str, str], threads: int = THREADS) -> ChallengeMutation:
    mutants = mutants_of(reference)

    def run(mutant: Mutant) -> MutantOutcome:
        reason = equivalent.get(mutant.id)
        try:
            result = grade(mutant.source, hidden_tests, limits, fail_fast=True)
        except Exception as exc:  # a grader error is reported, never counted as a kill
            return MutantOutcome(mutant, None, (), reason, error=f"{type(exc).__name__}: {exc}")
        failing = tuple(t["name"] for t in result.feedback.get("tests", []) if t.get("outcome") not in ("passed",
                                                                                                        "skipped"))
        return MutantOutcome(mutant, result.score, failing, reason)

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(run, mutants))
    ids = {m.id for m in mutants}
    return ChallengeMutation(slug, outcomes, sorted(set(equivalent) - ids))


def report_lines(result: ChallengeMutation, *, verbose: bool = False) -> list[str]:
    """What ``rehearse questions mutants`` prints for one challenge."""
    lines = [f"{result.slug}: {len(result.outcomes)} mutants, {len(result.killed)} killed, "
             f"{len(result.equivalent)} equivalent, {len(result.survived)} survived "
             f"({100 * result.kill_rate:.0f} % of non-equivalent killed)"]
    for outcome in result.survived:
        why = f" (grader error: {outcome.error})" if outcome.error else ""
        lines.append(f"  SURVIVED {outcome.mutant.id} {outcome.mutant.description}{why}")
    for outcome in result.listed_but_killed:
        lines.append(f"  listed as equivalent but killed by {', '.join(outcome.failing)}: {outcome.mutant.id}")
    for mutant_id in result.unknown_equivalents:
        lines.append(f"  listed as equivalent but no such mutant: {mutant_id}")
    if verbose:
        for outcome in result.equivalent:
            lines.append(f"  equivalent {outcome.mutant.id} {outcome.mutant.description} — {outcome.equivalent}")
        for outcome in result.killed:
            lines.append(f"  killed {outcome.mutant.id} {outcome.mutant.description} by {', '.join(outcome.failing)}")
    return lines
