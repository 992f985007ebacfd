"""Submissions: a candidate's answer to one question revision, and its grading state.

The submissions table is also the grading queue (see webapp/grading/queue.py).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.assessments.models import AssessmentAttempt
from webapp.core.db import Base, UTCDateTime, utcnow
from webapp.identity.models import User
from webapp.questions.models import Question, QuestionKind, QuestionRevision


class SubmissionStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    graded = "graded"
    failed = "failed"


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_status_queued_at", "status", "queued_at", "id"),
        Index("ix_submissions_user_id_id", "user_id", "id"),
        Index("ix_submissions_user_question", "user_id", "question_id", "id"),
        Index("ix_submissions_user_queued_at", "user_id", "queued_at"),
        Index("ix_submissions_status_finished_at", "status", "finished_at"),
        Index("ix_submissions_question_id", "question_id"),
        Index("ix_submissions_revision_id", "revision_id"),
        UniqueConstraint("user_id", "sent_form", name="uq_submissions_user_sent_form"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("question_revisions.id", ondelete="CASCADE"))
    kind: Mapped[QuestionKind] = mapped_column(Enum(QuestionKind, native_enum=False, length=20, validate_strings=True))
    # Set when the answer was given inside an assessment (or a mock interview).
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment_attempts.id", ondelete="SET NULL"), index=True
    )

    answer_text: Mapped[str] = mapped_column(Text, default="")
    choice_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    code: Mapped[str] = mapped_column(Text, default="")
    code_filename: Mapped[str] = mapped_column(String(255), default="")
    code_size: Mapped[int] = mapped_column(Integer, default=0)
    code_sha256: Mapped[str] = mapped_column(String(64), default="")
    # The answer form's one-time token with what it carried (sha256): the same form sent twice
    # (a double click, a retry after a lost response) finds this answer instead of making another.
    sent_form: Mapped[str | None] = mapped_column(String(64))

    status: Mapped[SubmissionStatus] = mapped_column(
        Enum(SubmissionStatus, native_enum=False, length=20, validate_strings=True), default=SubmissionStatus.queued
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    score: Mapped[int | None] = mapped_column(Integer)
    feedback: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The grader was unsure (low confidence): shown as provisional, first in the review queue.
    provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    grader: Mapped[str] = mapped_column(String(64), default="")
    grader_version: Mapped[str] = mapped_column(String(32), default="")
    error: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship()
    question: Mapped[Question] = relationship()
    revision: Mapped[QuestionRevision] = relationship()
    attempt: Mapped[AssessmentAttempt | None] = relationship()

    @property
    def is_pending(self) -> bool:
        return self.status in (SubmissionStatus.queued, SubmissionStatus.running)

