"""Checking a code question's known solutions in the sandbox before it reaches candidates:
the reference and every known-correct solution must score 100, every known-wrong one less
(so the hidden tests are shown to accept each style and to catch each mistake)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from webapp.questions.bank import LimitsSpec, SolutionSpec

CHECK_THREADS = 2  # sandbox runs are mostly interpreter start-up; more threads than cores gain nothing


class CheckOutcome(Protocol):
    """How a solution scored against the hidden tests (a grader's result)."""

    @property
    def score(self) -> int: ...

    @property
    def feedback(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class CheckFailed:
    """The outcome when the check itself could not run (bad hidden tests, a broken runner)."""

    summary: str
    score: int = 0
    feedback: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.feedback.update({"kind": "tests", "verdict": "grader error", "summary": self.summary, "tests": []})


class ReferenceCheck(Protocol):
    """Grades one solution against hidden tests in the sandbox; the grading layer provides it."""

    def __call__(self, solution: str, hidden_tests: str, limits: LimitsSpec | None, *,
                 fail_fast: bool = False) -> CheckOutcome: ...


class CodeQuestion(Protocol):
    """What a QuestionSpec and a QuestionRevision both offer."""

    @property
    def hidden_tests(self) -> str: ...

    @property
    def reference_solution(self) -> str: ...

    @property
    def limits(self) -> LimitsSpec | None: ...

    @property
    def correct_solutions(self) -> list[SolutionSpec]: ...

    @property
    def wrong_solutions(self) -> list[SolutionSpec]: ...


def solutions_problem(check: ReferenceCheck | None, *, question: CodeQuestion) -> str | None:
    """Why this question cannot be published (None when every known solution scores as labelled)."""
    if check is None:
        return "Code grading is not available on this server, so the reference solution cannot be verified."
    limits = question.limits
    runs = [("The reference solution", question.reference_solution, True)]
    runs += [(f"The known-correct solution “{s.label}”", s.code, True) for s in question.correct_solutions]
    runs += [(f"The known-wrong solution “{s.label}”", s.code, False) for s in question.wrong_solutions]

    def verdict(run: tuple[str, str, bool]) -> str | None:
        what, code, should_pass = run
        try:
            result = check(code, question.hidden_tests, limits, fail_fast=not should_pass)
        except Exception as exc:  # a grader error: the tests or the sandbox, not the solution
            return f"{what} could not be graded: {exc}"
        if should_pass and result.score != 100:
            failed = [t["name"] for t in result.feedback.get("tests", []) if t.get("outcome") != "passed"]
            detail = f"failing: {', '.join(failed)}" if failed else result.feedback.get("summary", "")
            return f"{what} does not pass its hidden tests ({result.score}/100; {detail})."
        if not should_pass and result.score == 100:
            return f"{what} passes every hidden test: the tests do not catch its mistake."
        return None

    with ThreadPoolExecutor(CHECK_THREADS) as pool:
        problems = [p for p in pool.map(verdict, runs) if p]
    return " ".join(problems) or None

