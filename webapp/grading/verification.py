"""The sandbox check that questions call before publishing code: a grader behind the
``ReferenceCheck`` shape that ``questions/verification.py`` asks for."""

from __future__ import annotations

from typing import Protocol

from webapp.grading.graders import Grader, GradeResult, GradingTask
from webapp.questions.bank import LimitsSpec
from webapp.questions.kinds import QuestionKind


class SolutionGrader(Protocol):
    """Grades one solution in the sandbox: a ``questions.verification.ReferenceCheck`` that
    also keeps the grader's full result (mutation analysis reads it)."""

    def __call__(self, solution: str, hidden_tests: str, limits: LimitsSpec | None, *,
                 fail_fast: bool = False, suite: str = "hidden") -> GradeResult: ...


def reference_checker(code_grader: Grader | None) -> SolutionGrader | None:
    """A function grading (solution, hidden tests, limits), or None without a code grader."""
    if code_grader is None:
        return None

    def check(solution: str, hidden_tests: str, limits: LimitsSpec | None, *, fail_fast: bool = False,
              suite: str = "hidden") -> GradeResult:
        return code_grader.grade(GradingTask(kind=QuestionKind.code, code=solution, hidden_tests=hidden_tests,
                                             limits=limits, fail_fast=fail_fast, suite=suite))

    return check
