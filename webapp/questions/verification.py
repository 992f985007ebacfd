"""Checking a code question's reference solution in the sandbox before it reaches candidates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.grading.graders import Grader, GradeResult, GradingTask

ReferenceCheck = Callable[[str, str, dict[str, Any]], GradeResult]


def reference_checker(code_grader: Grader | None) -> ReferenceCheck | None:
    """A function grading (reference solution, hidden tests, limits), or None without a code grader."""
    if code_grader is None:
        return None

    def check(solution: str, hidden_tests: str, limits: dict[str, Any]) -> GradeResult:
        return code_grader.grade(GradingTask(kind="code", code=solution, hidden_tests=hidden_tests, limits=limits))

    return check


def reference_problem(check: ReferenceCheck | None, *, solution: str, hidden_tests: str,
                      limits: dict[str, Any]) -> str | None:
    """Why this reference solution cannot be published (None when it passes every hidden test)."""
    if check is None:
        return "Code grading is not available on this server, so the reference solution cannot be verified."
    result = check(solution, hidden_tests, limits)
    if result.score == 100:
        return None
    failed = [t["name"] for t in result.feedback.get("tests", []) if t.get("outcome") != "passed"]
    detail = f"failing: {', '.join(failed)}" if failed else result.feedback.get("summary", "")
    return f"The reference solution does not pass its hidden tests ({result.score}/100; {detail})."
