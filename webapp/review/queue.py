"""The review queue: finished submissions awaiting a human, provisional grades first, then oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import Field
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from webapp.assessments.models import Assessment, AssessmentAttempt
from webapp.core.db import utcnow
from webapp.core.inputs import Id, Line, Score
from webapp.core.listing import ListFilters, split_page
from webapp.identity.models import User
from webapp.questions.models import Question, Topic
from webapp.review.access import staff_visible
from webapp.review.models import Review, ReviewState
from webapp.submissions.models import Submission, SubmissionStatus

PER_PAGE = 30


class ReviewFilters(ListFilters):
    cursor = ("after", "after_provisional")

    state: Literal["awaiting", "claimed", "reviewed", "all"] = "awaiting"
    question: Line = Field(default="", max_length=80)
    topic: Line = Field(default="", max_length=80)
    candidate: Line = Field(default="", max_length=320)
    assessment: Id | None = None
    min_score: Score | None = None
    max_score: Score | None = None
    after: Id | None = None
    after_provisional: bool | None = None  # the keyset cursor is (provisional, submission id)


@dataclass
class ReviewQueueItem:
    submission: Submission
    review: Review


@dataclass
class ReviewQueuePage:
    items: Sequence[ReviewQueueItem]
    next_after: int | None
    now: datetime
    next_provisional: bool = False


def _state_condition(state: str, now: datetime) -> ColumnElement[bool] | None:
    if state == "claimed":
        return and_(Review.state == ReviewState.in_progress, Review.claim_expires_at > now)
    if state == "reviewed":
        return Review.state == ReviewState.submitted
    if state == "awaiting":
        return Review.state.in_([ReviewState.requested, ReviewState.in_progress])
    return None


def review_queue(db: Session, *, viewer: User, filters: ReviewFilters) -> ReviewQueuePage:
    """Finished submissions whose review was requested: provisional grades first (the grader
    was unsure, a human should look soonest), then oldest first (keyset paginated).

    The query is driven by the reviews table (one row per requested review), so its cost
    follows the queue's length, not the number of submissions.
    """
    now = utcnow()
    statement = (
        select(Submission, Review)
        .select_from(Review).join(Submission, Submission.id == Review.submission_id)
        .join(Submission.question).join(Question.topic).join(Submission.user)
        .options(contains_eager(Submission.question).contains_eager(Question.topic),
                 contains_eager(Submission.user), joinedload(Review.reviewer))
        .where(Submission.status.in_([SubmissionStatus.graded, SubmissionStatus.failed]), staff_visible(viewer))
        .order_by(Submission.provisional.desc(), Review.submission_id).limit(PER_PAGE + 1)
    )
    if (condition := _state_condition(filters.state, now)) is not None:
        statement = statement.where(condition)
    if filters.question:
        statement = statement.where(Question.slug == filters.question)
    if filters.topic:
        statement = statement.where(Topic.slug == filters.topic)
    if filters.candidate:
        statement = statement.where(User.email == filters.candidate.strip().casefold())
    if filters.assessment:
        statement = statement.where(Submission.attempt_id.in_(
            select(AssessmentAttempt.id).where(AssessmentAttempt.assessment_id == filters.assessment)))
    if filters.min_score is not None:
        statement = statement.where(Submission.score >= filters.min_score)
    if filters.max_score is not None:
        statement = statement.where(Submission.score <= filters.max_score)
    if filters.after:
        later = and_(Submission.provisional.is_(bool(filters.after_provisional)), Review.submission_id > filters.after)
        after = or_(later, Submission.provisional.is_(False)) if filters.after_provisional else later
        statement = statement.where(after)
    rows, last = split_page(db.execute(statement).unique().all(), PER_PAGE)
    items = [ReviewQueueItem(submission, review) for submission, review in rows]
    return ReviewQueuePage(items=items, next_after=last[0].id if last else None, now=now,
                           next_provisional=bool(last and last[0].provisional))


def assessments_for_filter(db: Session, *, viewer: User) -> list[Assessment]:
    statement = select(Assessment).where(Assessment.kind == "assessment").order_by(Assessment.created_at.desc())
    if viewer.role.value != "admin":
        statement = statement.where(Assessment.owner_id == viewer.id)
    return list(db.scalars(statement))
