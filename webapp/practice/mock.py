"""Mock interviews: a timed set of fresh questions, built on the assessment machinery."""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.assessments.models import Assessment, AssessmentAttempt, AssessmentQuestion, CandidateFeedback
from webapp.core.errors import Invalid
from webapp.identity.models import User
from webapp.questions.models import Difficulty, Question, QuestionStatus, Topic
from webapp.submissions.attempts import ReportRow, report_rows
from webapp.submissions.models import Submission

LENGTHS = (3, 5, 8)
MINUTES = (15, 30, 45, 60)
NOT_SEEN_FOR = timedelta(days=14)


def start_mock(db: Session, *, user: User, topics: list[str], difficulty: str, length: int, minutes: int,
               now: datetime) -> AssessmentAttempt:
    """Pick questions the candidate has not seen lately and start the clock at once."""
    if length not in LENGTHS or minutes not in MINUTES:
        raise Invalid({"form": "Choose a length and a time from the lists."})
    statement = select(Question).join(Topic).where(Question.status == QuestionStatus.published)
    if topics:
        statement = statement.where(Topic.slug.in_(topics))
    if difficulty in Difficulty.__members__:
        statement = statement.where(Question.difficulty == Difficulty(difficulty))
    last_seen = dict(db.execute(select(Submission.question_id, func.max(Submission.queued_at))
                                .where(Submission.user_id == user.id).group_by(Submission.question_id)).all())
    pool = list(db.scalars(statement))
    if len(pool) < length:
        raise Invalid({"form": f"Only {len(pool)} questions match; widen the topics or difficulty."})
    rng = random.Random(secrets.randbits(32))
    rng.shuffle(pool)
    never = datetime.min.replace(tzinfo=now.tzinfo)
    # Unseen first, then those seen longest ago; shuffled within each group.
    pool.sort(key=lambda q: (last_seen.get(q.id, never) > now - NOT_SEEN_FOR, last_seen.get(q.id, never)))
    chosen = pool[:length]
    mock = Assessment(title=f"Mock interview {now:%Y-%m-%d %H:%M}", owner_id=user.id, time_limit_minutes=minutes,
                      invite_code=secrets.token_urlsafe(9), kind="mock", candidate_feedback=CandidateFeedback.full,
                      items=[AssessmentQuestion(question_id=q.id, position=n) for n, q in enumerate(chosen, 1)])
    db.add(mock)
    db.flush()
    attempt = AssessmentAttempt(assessment_id=mock.id, candidate_id=user.id, started_at=now,
                                deadline_at=now + timedelta(minutes=minutes))
    db.add(attempt)
    db.flush()
    return attempt


@dataclass
class WeakPoint:
    point: str
    question: str
    weight: int


@dataclass
class MockSummary:
    rows: list[ReportRow]
    total: int | None  # None (with nothing else graded) while the mock runs: feedback comes at the end
    possible: int
    seconds_used: int | None
    weakest: list[WeakPoint]
    review_topics: list[tuple[str, str]]


def summarise(db: Session, *, attempt: AssessmentAttempt, now: datetime) -> MockSummary:
    rows = report_rows(db, attempt=attempt)
    if not attempt.has_ended(now):
        return MockSummary(rows, None, 100 * len(rows), attempt.seconds_used(now), [], [])
    weakest: list[WeakPoint] = []
    topic_scores: Counter[tuple[str, str]] = Counter()
    for row in rows:
        score = row.submission.score if row.submission and row.submission.score is not None else 0
        topic_scores[(row.question.topic.slug, row.question.topic.name)] += 100 - score
        feedback = row.submission.feedback if row.submission else {}
        for point in feedback.get("points", []):
            if not point.get("covered"):
                weakest.append(WeakPoint(point["point"], row.question.title, point.get("weight", 1)))
        for test in feedback.get("tests", []):
            if test.get("outcome") != "passed":
                weakest.append(WeakPoint(f"Failed check: {test['name'].removeprefix('test_').replace('_', ' ')}",
                                         row.question.title, 2))
    weakest.sort(key=lambda w: -w.weight)
    total = sum(r.submission.score or 0 for r in rows if r.submission)
    review = [topic for topic, missing in topic_scores.most_common(3) if missing > 30]
    return MockSummary(rows, total, 100 * len(rows), attempt.seconds_used(now), weakest[:5], review)


def my_mocks(db: Session, *, user: User) -> list[AssessmentAttempt]:
    return list(db.scalars(select(AssessmentAttempt).join(Assessment)
                           .where(AssessmentAttempt.candidate_id == user.id, Assessment.kind == "mock")
                           .order_by(AssessmentAttempt.id.desc()).limit(20)))
