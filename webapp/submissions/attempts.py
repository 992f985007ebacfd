"""The answers given inside one assessment attempt (or mock interview), question by question."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.assessments.models import AssessmentAttempt
from webapp.questions.models import Question
from webapp.submissions.models import Submission


@dataclass
class ReportRow:
    position: int
    question: Question
    answers: list[Submission]  # every answer to the question in this attempt, oldest first

    @property
    def submission(self) -> Submission | None:
        """The last answer: the one that counts."""
        return self.answers[-1] if self.answers else None


@dataclass(frozen=True)
class ReportTotals:
    scored: int  # the sum of the counting answers' scores (ungraded ones count nothing yet)
    possible: int  # 100 a question
    unanswered: int = 0  # questions without an answer yet


def report_totals(rows: list[ReportRow]) -> ReportTotals:
    scored = sum(row.submission.score for row in rows if row.submission and row.submission.score is not None)
    return ReportTotals(scored=scored, possible=100 * len(rows), unanswered=sum(not row.answers for row in rows))


def attempt_answers(db: Session, *, attempt_id: int, question_id: int | None = None) -> list[Submission]:
    """The answers given in an attempt (to one question, or to all), in the order they were sent."""
    statement = select(Submission).where(Submission.attempt_id == attempt_id).order_by(Submission.id)
    if question_id is not None:
        statement = statement.where(Submission.question_id == question_id)
    return list(db.scalars(statement))


def last_answer_values(db: Session, *, attempt_id: int, question_id: int) -> dict[str, object]:
    """The answer form's values as the candidate last sent them in this attempt (empty if never)."""
    answers = attempt_answers(db, attempt_id=attempt_id, question_id=question_id)
    if not answers:
        return {}
    last = answers[-1]
    return {"answer": last.answer_text, "choices": list(last.choice_ids), "code": last.code}


def report_rows(db: Session, *, attempt: AssessmentAttempt) -> list[ReportRow]:
    """For each question, every answer the candidate gave to it inside this attempt."""
    answers: dict[int, list[Submission]] = {}
    for submission in attempt_answers(db, attempt_id=attempt.id):
        answers.setdefault(submission.question_id, []).append(submission)
    return [ReportRow(item.position, item.question, answers.get(item.question_id, []))
            for item in attempt.assessment.items]
