"""Where a candidate stands: mastery per topic, activity per day, streak, recent feedback.

Every figure comes from a fixed number of aggregate queries, whatever the history's size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import mean

from sqlalchemy import ColumnElement, Date, case, cast, func, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from webapp.assessments.models import CandidateFeedback
from webapp.identity.models import User
from webapp.practice.models import PracticeCard
from webapp.questions.models import Question, QuestionStatus, Topic
from webapp.review.access import visible_to
from webapp.submissions.models import Submission, SubmissionStatus
from webapp.submissions.visibility import author_sees

RECENT = timedelta(days=90)
WEEKS_SHOWN = 8


@dataclass
class TopicMastery:
    slug: str
    name: str
    tried: int
    total: int
    mastery: int | None  # mean of the best recent score of each tried question


@dataclass
class Day:
    day: date
    attempts: int
    average: float | None


@dataclass
class Progress:
    user: User
    topics: list[TopicMastery]
    days: list[Day]
    streak: int
    recent: list[Submission]
    due_now: int
    next_due: datetime | None

    @property
    def weeks(self) -> int:
        """How many whole weeks the per-day figures cover."""
        return len(self.days) // 7

    @property
    def tried_topics(self) -> list[TopicMastery]:
        return [t for t in self.topics if t.tried]


def _day(db: Session, column: InstrumentedAttribute[datetime]) -> ColumnElement[date]:
    """The UTC calendar day of a timestamp column, on either backend."""
    if db.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


@dataclass(frozen=True)
class Seen:
    """Which of the user's answers a page counts, and whose scores it may show."""

    counted: ColumnElement[bool]
    scored: ColumnElement[bool]


def seen_by(*, user: User, viewer: User, now: datetime) -> Seen:
    """The candidate counts all their answers but sees only the scores they are shown
    (submissions/visibility.py); an interviewer sees only the answers they may open
    (review/access.py), the same rule that guards the answer pages."""
    if viewer.id == user.id:
        return Seen(counted=true(), scored=author_sees(CandidateFeedback.score, now=now))
    visible = visible_to(viewer)
    return Seen(counted=visible, scored=visible)


def topic_mastery(db: Session, *, user: User, now: datetime, seen: Seen) -> list[TopicMastery]:
    best = db.execute(
        select(Question.topic_id, Submission.question_id, func.max(case((seen.scored, Submission.score))))
        .join(Question, Question.id == Submission.question_id)
        .where(Submission.user_id == user.id, Submission.status == SubmissionStatus.graded,
               Submission.queued_at >= now - RECENT, seen.counted)
        .group_by(Question.topic_id, Submission.question_id)
    ).all()
    tried: dict[int, int] = defaultdict(int)
    per_topic: dict[int, list[int]] = defaultdict(list)
    for row in best:
        topic_id, score = int(row[0]), row[2]
        tried[topic_id] += 1
        if isinstance(score, int):  # tried, but its score is not shown (an answer in a running assessment)
            per_topic[topic_id].append(score)
    totals = db.execute(
        select(Topic.id, Topic.slug, Topic.name, func.count(Question.id))
        .outerjoin(Question, (Question.topic_id == Topic.id) & (Question.status == QuestionStatus.published))
        .group_by(Topic.id, Topic.slug, Topic.name, Topic.position).order_by(Topic.position, Topic.name)
    ).all()
    return [TopicMastery(slug, name, tried[tid], total,
                         round(mean(per_topic[tid])) if per_topic[tid] else None)
            for tid, slug, name, total in totals]


def activity(db: Session, *, user: User, today: date, seen: Seen) -> tuple[list[Day], int]:
    """Attempts and average score per day for the last weeks, and the current streak of days."""
    day = _day(db, Submission.queued_at)
    start = today - timedelta(days=365)
    rows = db.execute(
        select(day, func.count(), func.avg(case((seen.scored, Submission.score))))
        .where(Submission.user_id == user.id, Submission.queued_at >= datetime.combine(start, time.min, UTC),
               seen.counted)
        .group_by(day)
    ).all()
    by_day = {(r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0]))): (r[1], r[2]) for r in rows}
    shown = [today - timedelta(days=n) for n in range(WEEKS_SHOWN * 7 - 1, -1, -1)]
    days = [Day(d, by_day.get(d, (0, None))[0], _round(by_day.get(d, (0, None))[1])) for d in shown]
    streak, cursor = 0, today if today in by_day else today - timedelta(days=1)
    while cursor in by_day:
        streak, cursor = streak + 1, cursor - timedelta(days=1)
    return days, streak


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def progress_for(db: Session, *, user: User, viewer: User, now: datetime) -> Progress:
    """The user's progress as this viewer may see it (the user themselves, or staff)."""
    seen = seen_by(user=user, viewer=viewer, now=now)
    days, streak = activity(db, user=user, today=now.date(), seen=seen)
    recent = list(db.scalars(
        select(Submission).where(Submission.user_id == user.id, Submission.status == SubmissionStatus.graded,
                                 seen.counted, seen.scored)
        .options(joinedload(Submission.question)).order_by(Submission.id.desc()).limit(5)))
    due_now = db.scalar(select(func.count()).select_from(PracticeCard).where(
        PracticeCard.user_id == user.id, PracticeCard.due <= now)) or 0
    next_due = db.scalar(select(func.min(PracticeCard.due)).where(PracticeCard.user_id == user.id,
                                                                  PracticeCard.due > now))
    return Progress(user=user, topics=topic_mastery(db, user=user, now=now, seen=seen), days=days, streak=streak,
                    recent=recent, due_now=due_now, next_due=next_due)
