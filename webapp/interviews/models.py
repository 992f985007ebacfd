"""Live interviews: the room, its questions, the shared document's update log (which is also the
replay), the interviewer's private notes, integrity events and the code runs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Base, UTCDateTime, utcnow
from webapp.identity.models import User
from webapp.questions.models import Question, QuestionRevision
from webapp.review.models import Recommendation


class InterviewStatus(enum.StrEnum):
    upcoming = "upcoming"  # created, nobody has joined yet
    live = "live"  # someone joined; editing is open
    finished = "finished"  # ended with a scorecard: the room is read-only

    @property
    def label(self) -> str:
        return {"upcoming": "Upcoming", "live": "Live", "finished": "Finished"}[self.value]


class Interview(Base):
    __tablename__ = "interviews"
    __table_args__ = (Index("ix_interviews_interviewer", "interviewer_id", "id"),
                      Index("ix_interviews_candidate", "candidate_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the first join
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    current_question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"))
    # Bytes in the update log: the document's size limit is checked against it before each write.
    log_bytes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The scorecard, written when the interview ends (the same fields as a review's).
    point_ratings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recommendation: Mapped[Recommendation | None] = mapped_column(
        Enum(Recommendation, native_enum=False, length=20, validate_strings=True))
    overall_comment: Mapped[str] = mapped_column(Text, default="")

    interviewer: Mapped[User] = relationship(foreign_keys=[interviewer_id])
    candidate: Mapped[User] = relationship(foreign_keys=[candidate_id])
    current_question: Mapped[Question | None] = relationship()
    questions: Mapped[list[InterviewQuestion]] = relationship(
        order_by="InterviewQuestion.position", cascade="all, delete-orphan", lazy="selectin")

    @property
    def status(self) -> InterviewStatus:
        if self.ended_at is not None:
            return InterviewStatus.finished
        return InterviewStatus.live if self.started_at is not None else InterviewStatus.upcoming

    @property
    def is_finished(self) -> bool:
        return self.ended_at is not None


class InterviewQuestion(Base):
    """A question asked in the room, pinned to the revision it was added at."""

    __tablename__ = "interview_questions"
    __table_args__ = (UniqueConstraint("interview_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("question_revisions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    question: Mapped[Question] = relationship(lazy="joined")
    revision: Mapped[QuestionRevision] = relationship(lazy="joined")


class InterviewUpdate(Base):
    """One Yjs update to the room's document, appended before anyone else is sent it. Applying
    every update up to a moment gives the document at that moment (the replay)."""

    __tablename__ = "interview_updates"
    __table_args__ = (Index("ix_interview_updates_interview", "interview_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # None: the server
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InterviewNote(Base):
    """The interviewer's private note: never rendered for, or sent to, the candidate."""

    __tablename__ = "interview_notes"
    __table_args__ = (Index("ix_interview_notes_interview", "interview_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()


class InterviewEvent(Base):
    """What the room noticed: a large paste (its size), the page losing focus (for how long)."""

    __tablename__ = "interview_events"
    __table_args__ = (Index("ix_interview_events_interview", "interview_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))  # paste, blur
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User | None] = relationship()


class InterviewRun(Base):
    """A run of the room's code, on the graders like Run examples (grading/example_runs.py)."""

    __tablename__ = "interview_runs"
    __table_args__ = (Index("ix_interview_runs_interview", "interview_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("example_runs.id", ondelete="CASCADE"), unique=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    suite: Mapped[str] = mapped_column(String(10))  # example (both see it) or hidden (the interviewer only)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    requested_by: Mapped[User | None] = relationship()
    question: Mapped[Question] = relationship()
