"""Running the evaluation on the shipped bank: what ``rehearse grading eval`` and the tests call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from webapp.grading.evaluation.answers import EvaluationSet, load
from webapp.grading.evaluation.report import EvaluationReport, evaluate, format_report
from webapp.grading.graders import shipped_synonyms
from webapp.grading.graders.text import RubricGrader
from webapp.questions.bank import ParsedBank, default_bank_dir, read_path

DEFAULT_SET = Path(__file__).resolve().parents[3] / "tests" / "grading" / "eval"


def text_questions(bank: ParsedBank) -> dict[str, Any]:
    return {q.slug: q for q in bank.questions if q.kind == "text"}


def shipped_evaluation(directory: Path = DEFAULT_SET) -> tuple[RubricGrader, EvaluationSet, dict[str, Any]]:
    questions = text_questions(read_path(default_bank_dir()))
    return RubricGrader(shipped_synonyms()), load(directory, questions=questions), questions


def reports(directory: Path = DEFAULT_SET) -> dict[str, EvaluationReport]:
    """The whole set, the questions used while tuning the grader, and the held-out ones."""
    grader, evaluation, questions = shipped_evaluation(directory)
    asked = {a.question for a in evaluation.answers}
    return {
        "whole set": evaluate(grader, evaluation, questions=questions),
        "tuning questions": evaluate(grader, evaluation, questions=questions, only=asked - evaluation.held_out),
        "held-out questions": evaluate(grader, evaluation, questions=questions, only=asked & evaluation.held_out),
    }


def printable(directory: Path = DEFAULT_SET) -> str:
    return "\n\n".join(format_report(report, title=title) for title, report in reports(directory).items()
                       if report.graded)
