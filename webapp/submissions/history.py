"""A candidate's submission history, newest first, with keyset pagination."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from webapp.assessments.models import AssessmentAttempt
from webapp.core.inputs import Id, Line
from webapp.core.listing import ListFilters, split_page
from webapp.identity.models import User
from webapp.questions.models import Question, QuestionKind
from webapp.submissions.models import Submission, SubmissionStatus

PER_PAGE = 25


class HistoryFilters(ListFilters):
    cursor = ("before",)

    status: SubmissionStatus | None = None
    kind: QuestionKind | None = None
    question: Line = Field(default="", max_length=80)
    before: Id | None = None


@dataclass
class HistoryPage:
    filters: HistoryFilters
    items: Sequence[Submission]
    next_before: int | None


def list_history(db: Session, *, user: User, filters: HistoryFilters) -> HistoryPage:
    """One page of the user's submissions; ``next_before`` continues after the last one."""
    statement = (select(Submission).where(Submission.user_id == user.id)
                 .options(joinedload(Submission.question).joinedload(Question.topic),
                          joinedload(Submission.attempt).joinedload(AssessmentAttempt.assessment))
                 .order_by(Submission.id.desc()).limit(PER_PAGE + 1))
    if filters.status:
        statement = statement.where(Submission.status == filters.status)
    if filters.kind:
        statement = statement.where(Submission.kind == filters.kind)
    if filters.question:
        statement = statement.where(Submission.question.has(Question.slug == filters.question))
    if filters.before:
        statement = statement.where(Submission.id < filters.before)
    items, last = split_page(list(db.scalars(statement).unique()), PER_PAGE)
    return HistoryPage(filters=filters, items=items, next_before=last.id if last else None)

