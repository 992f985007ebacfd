"""Assessments: a timed set of questions an interviewer gives to invited candidates."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Base, UTCDateTime, utcnow
from webapp.identity.models import User
from webapp.questions.models import Question


class CandidateFeedback(enum.StrEnum):
    """What a candidate sees of their answers once the assessment has ended (nothing while it runs)."""

    nothing = "nothing"  # only that each answer was received
    score = "score"
    full = "full"  # the feedback of practice: score, rubric, tests, model answer, reviews

    @property
    def label(self) -> str:
        return {"nothing": "Nothing: only that each answer was received", "score": "The score only",
                "full": "Full feedback, as in practice"}[self.value]


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    time_limit_minutes: Mapped[int] = mapped_column(Integer)
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)
    # "assessment" (run by an interviewer) or "mock" (a candidate's own timed practice).
    kind: Mapped[str] = mapped_column(String(20), default="assessment", server_default="assessment")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Chosen by the interviewer; mocks always show full feedback once they end (see submissions/visibility.py).
    candidate_feedback: Mapped[CandidateFeedback] = mapped_column(
        Enum(CandidateFeedback, native_enum=False, length=10, validate_strings=True),
        default=CandidateFeedback.score, server_default=CandidateFeedback.score.value,
    )

    owner: Mapped[User] = relationship()

    items: Mapped[list[AssessmentQuestion]] = relationship(
        order_by="AssessmentQuestion.position", cascade="all, delete-orphan", lazy="selectin"
    )
    attempts: Mapped[list[AssessmentAttempt]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="AssessmentAttempt.id"
    )

    @property
    def time_limit_seconds(self) -> int:
        return 60 * self.time_limit_minutes


class AssessmentQuestion(Base):
    __tablename__ = "assessment_questions"
    __table_args__ = (UniqueConstraint("assessment_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)

    question: Mapped[Question] = relationship(lazy="joined")


class AssessmentAttempt(Base):
    """One candidate's invitation to an assessment, and their run through it."""

    __tablename__ = "assessment_attempts"
    __table_args__ = (UniqueConstraint("assessment_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    assessment: Mapped[Assessment] = relationship(back_populates="attempts")
    candidate: Mapped[User] = relationship()

    def seconds_used(self, now: datetime) -> int | None:
        """Time on the clock so far (to submission or the deadline once ended); None before the start."""
        if self.started_at is None:
            return None
        end = self.submitted_at or min(now, self.deadline_at or now)
        return int((end - self.started_at).total_seconds())

    def has_ended(self, now: datetime) -> bool:
        """Submitted, or past its deadline: the answers are final."""
        return self.submitted_at is not None or self.deadline_at is not None and now >= self.deadline_at

    def status(self, now: datetime) -> str:
        if self.submitted_at:
            return "submitted"
        if self.started_at is None:
            return "not started"
        return "expired" if self.deadline_at and now >= self.deadline_at else "in progress"
