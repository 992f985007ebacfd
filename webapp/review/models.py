"""Human review of submissions: one review per submission, and comments anchored to lines."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Base, UTCDateTime, utcnow
from webapp.identity.models import User


class Recommendation(enum.StrEnum):
    strong_no = "strong_no"
    no = "no"
    yes = "yes"
    strong_yes = "strong_yes"

    @property
    def label(self) -> str:
        return {"strong_no": "Strong no", "no": "No", "yes": "Yes", "strong_yes": "Strong yes"}[self.value]


class ReviewState(enum.StrEnum):
    requested = "requested"  # waiting in the queue: an assessment answer, or the candidate asked
    in_progress = "in_progress"  # claimed by a reviewer (until claim_expires_at)
    submitted = "submitted"


class Review(Base):
    """The human review of one submission; its row is also the submission's place in the review queue."""

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_state_submission", "state", "submission_id"),
        # The navigation's "new reviews" badge: only submitted reviews nobody has opened yet.
        Index("ix_reviews_unseen", "submission_id",
              sqlite_where=text("state = 'submitted' AND seen_by_candidate_at IS NULL"),
              postgresql_where=text("state = 'submitted' AND seen_by_candidate_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), unique=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    state: Mapped[ReviewState] = mapped_column(
        Enum(ReviewState, native_enum=False, length=20, validate_strings=True), default=ReviewState.requested
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    point_ratings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The automatic grade as the interviewer saw it when submitting (a regrade may change it later).
    grader_verdicts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    grader_score: Mapped[int | None] = mapped_column(Integer)
    recommendation: Mapped[Recommendation | None] = mapped_column(
        Enum(Recommendation, native_enum=False, length=20, validate_strings=True)
    )
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    final_score: Mapped[int | None] = mapped_column(Integer)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seen_by_candidate_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    reviewer: Mapped[User | None] = relationship()


class ReviewComment(Base):
    __tablename__ = "review_comments"
    __table_args__ = (Index("ix_review_comments_submission_line", "submission_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    line: Mapped[int | None] = mapped_column(Integer)  # None: about the answer as a whole
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    author: Mapped[User | None] = relationship()
