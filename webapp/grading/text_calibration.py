"""A text question's calibration answers, graded: each must land in its expected score range."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from webapp.grading.graders.base import GradeResult, GradingTask
from webapp.grading.graders.text import RubricGrader
from webapp.questions.kinds import QuestionKind
from webapp.questions.rubric_spec import RubricPointSpec


@dataclass(frozen=True)
class CalibrationOutcome:
    expect: str
    score: int
    low: int
    high: int
    result: GradeResult

    @property
    def in_range(self) -> bool:
        return self.low <= self.score <= self.high

    def describe(self) -> str:
        verdicts = ", ".join(p["verdict"] for p in self.result.feedback["points"])
        return f"{self.expect} answer scores {self.score} (expected {self.low}-{self.high}): {verdicts}"


def text_task(rubric: Sequence[RubricPointSpec], answer: str) -> GradingTask:
    return GradingTask(kind=QuestionKind.text, answer_text=answer, rubric=tuple(rubric))


def grade_calibration(grader: RubricGrader, *, question: Any) -> list[CalibrationOutcome]:
    """Every calibration answer of a text question spec (or revision-like object), graded."""
    rubric = list(question.rubric)
    outcomes = []
    for example in question.calibration:
        low, high = example.bounds()
        result = grader.grade(text_task(rubric, example.answer))
        outcomes.append(CalibrationOutcome(example.expect, result.score, low, high, result))
    return outcomes


def calibration_problem(grader: RubricGrader, *, question: Any) -> str | None:
    """The first calibration answer out of its range, or a missing strong answer; None if all is well."""
    outcomes = grade_calibration(grader, question=question)
    if not any(o.expect == "strong" for o in outcomes):
        return "no strong calibration answer"
    wrong = [o for o in outcomes if not o.in_range]
    return "; ".join(o.describe() for o in wrong) or None
