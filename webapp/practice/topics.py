"""What to practise next: due questions first, then weak topics, then new questions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from webapp.identity.models import User
from webapp.practice.models import PracticeCard, PracticeSettings
from webapp.practice.stats import seen_by, topic_mastery
from webapp.questions.models import Question, QuestionStatus, Topic
from webapp.submissions.models import Submission

WEAK_BELOW = 70
RESTING = timedelta(hours=20)  # a weak-topic pick skips questions answered this recently


@dataclass
class NextPractice:
    question: Question
    reason: str  # "due", "weak" or "new"
    detail: str


@dataclass
class PracticeState:
    next: NextPractice | None
    due_today: int
    next_due: datetime | None
    chosen_topics: list[str]


def chosen_topics(db: Session, *, user: User) -> list[str]:
    settings = db.get(PracticeSettings, user.id)
    return list(settings.topics) if settings else []


def choose_topics(db: Session, *, user: User, topics: list[str]) -> list[str]:
    known = set(db.scalars(select(Topic.slug).where(Topic.slug.in_(topics))))
    settings = db.get(PracticeSettings, user.id) or PracticeSettings(user_id=user.id)
    settings.topics = [t for t in topics if t in known]
    db.add(settings)
    return settings.topics


def practice_state(db: Session, *, user: User, now: datetime) -> PracticeState:
    end_of_day = datetime.combine(now.date(), datetime.max.time(), tzinfo=now.tzinfo)
    due_today = db.scalar(select(func.count()).select_from(PracticeCard).where(
        PracticeCard.user_id == user.id, PracticeCard.due <= end_of_day)) or 0
    next_due = db.scalar(select(func.min(PracticeCard.due)).where(PracticeCard.user_id == user.id,
                                                                  PracticeCard.due > now))
    topics = chosen_topics(db, user=user)
    pick = _due(db, user, now) or _weak(db, user, now) or _new(db, user, topics)
    return PracticeState(next=pick, due_today=due_today, next_due=next_due, chosen_topics=topics)


def _due(db: Session, user: User, now: datetime) -> NextPractice | None:
    card = db.scalar(select(PracticeCard).join(Question, Question.id == PracticeCard.question_id)
                     .where(PracticeCard.user_id == user.id, PracticeCard.due <= now,
                            Question.status == QuestionStatus.published)
                     .options(joinedload(PracticeCard.question)).order_by(PracticeCard.due).limit(1))
    if card is None:
        return None
    return NextPractice(card.question, "due", f"Due for review (last score {card.last_score}).")


def _weak(db: Session, user: User, now: datetime) -> NextPractice | None:
    seen = seen_by(user=user, viewer=user, now=now)  # weak topics from the scores the candidate is shown
    weak = sorted((t for t in topic_mastery(db, user=user, now=now, seen=seen) if t.mastery is not None
                   and t.mastery < WEAK_BELOW), key=lambda t: t.mastery or 0)
    recently = select(Submission.question_id).where(Submission.user_id == user.id,
                                                    Submission.queued_at > now - RESTING)
    for topic in weak:
        question = db.scalar(select(Question).join(Topic).where(
            Topic.slug == topic.slug, Question.status == QuestionStatus.published,
            Question.id.not_in(recently), Question.id.not_in(_carded(user))).order_by(Question.id).limit(1))
        if question is not None:
            return NextPractice(question, "weak", f"{topic.name} is one of your weaker topics ({topic.mastery}).")
    return None


def _carded(user: User) -> Select[int]:
    return select(PracticeCard.question_id).where(PracticeCard.user_id == user.id)


def _new(db: Session, user: User, topics: list[str]) -> NextPractice | None:
    statement = (select(Question).join(Topic).where(Question.status == QuestionStatus.published,
                                                   Question.id.not_in(_carded(user)))
                 .order_by(Topic.position, Question.difficulty, Question.id).limit(1))
    if topics:
        statement = statement.where(Topic.slug.in_(topics))
    question = db.scalar(statement)
    if question is None:
        return None
    return NextPractice(question, "new", f"New to you, in {question.topic.name}.")
