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
                 fail_fast: bool = False, suite: str = "hidden") -> CheckOutcome: ...


class CodeQuestion(Protocol):
    """What a QuestionSpec and a QuestionRevision both offer."""

    @property
    def hidden_tests(self) -> str: ...

    @property
    def example_tests(self) -> str: ...

    @property
    def reference_solution(self) -> str: ...

    @property
    def limits(self) -> LimitsSpec | None: ...

    @property
    def correct_solutions(self) -> list[SolutionSpec]: ...

    @property
    def wrong_solutions(self) -> list[SolutionSpec]: ...


@dataclass(frozen=True)
class KnownSolution:
    what: str  # how messages name it: "The known-wrong solution “no status code”"
    code: str
    should_pass: bool
    suite: str = "hidden"  # the tests it is run against: "hidden", or "example" (what candidates run)

    def tests(self, question: CodeQuestion) -> str:
        return question.example_tests if self.suite == "example" else question.hidden_tests


def known_solutions(question: CodeQuestion) -> list[KnownSolution]:
    """The reference and every known-correct solution (must score 100), every known-wrong one (must
    not), and the reference against the example tests, if any (candidates must see them pass)."""
    correct = [KnownSolution(f"The known-correct solution “{s.label}”", s.code, True)
               for s in question.correct_solutions]
    wrong = [KnownSolution(f"The known-wrong solution “{s.label}”", s.code, False) for s in question.wrong_solutions]
    examples = ([KnownSolution("The reference solution", question.reference_solution, True, "example")]
                if question.example_tests.strip() else [])
    return [KnownSolution("The reference solution", question.reference_solution, True), *correct, *wrong, *examples]


def verdict(what: str, *, should_pass: bool, outcome: CheckOutcome, suite: str = "hidden") -> str | None:
    """What is wrong with a known solution's score (None when it scored as labelled)."""
    if should_pass and outcome.score != 100:
        failed = [t["name"] for t in outcome.feedback.get("tests", []) if t.get("outcome") != "passed"]
        detail = f"failing: {', '.join(failed)}" if failed else outcome.feedback.get("summary", "")
        return f"{what} does not pass its {suite} tests ({outcome.score}/100; {detail})."
    if not should_pass and outcome.score == 100:
        return f"{what} passes every {suite} test: the tests do not catch its mistake."
    return None


def solutions_problem(check: ReferenceCheck | None, *, question: CodeQuestion) -> str | None:
    """Why this question cannot be published (None when every known solution scores as labelled)."""
    if check is None:
        return "Code grading is not available on this server, so the reference solution cannot be verified."

    def run(solution: KnownSolution) -> str | None:
        try:
            outcome = check(solution.code, solution.tests(question), question.limits,
                            fail_fast=not solution.should_pass, suite=solution.suite)
        except Exception as exc:  # a grader error: the tests or the sandbox, not the solution
            return f"{solution.what} could not be graded: {exc}"
        return verdict(solution.what, should_pass=solution.should_pass, outcome=outcome, suite=solution.suite)

    with ThreadPoolExecutor(CHECK_THREADS) as pool:
        problems = [p for p in pool.map(run, known_solutions(question)) if p]
    return " ".join(problems) or None

