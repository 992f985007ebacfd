"""What is kept about how an assessment's answers came about: each code answer's fingerprint
(and whether it has been compared yet), the pairs found alike, and the answer pages' session
signals. Evidence for an interviewer to weigh; nothing here changes a score."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Base, UTCDateTime, utcnow
from webapp.submissions.models import Submission


class CodeFingerprint(Base):
    """One graded code answer of an assessment, queued for comparison when it is graded;
    ``hashes`` are filled by whichever check needs them first (they never change)."""

    __tablename__ = "code_fingerprints"
    __table_args__ = (Index("ix_code_fingerprints_question", "question_id", "submission_id"),
                      Index("ix_code_fingerprints_unchecked", "checked_at", "queued_at"))

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("assessment_attempts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    hashes: Mapped[list[int] | None] = mapped_column(JSON)
    token_coverage: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SimilarityMatch(Base):
    """Two answers to one question found alike: ``first`` is the lower submission id. Each
    side's share is the part of its fingerprinted code found in the other (starter and
    reference code removed); the regions are character ranges of each side's code."""

    __tablename__ = "similarity_matches"
    __table_args__ = (UniqueConstraint("first_id", "second_id"), Index("ix_similarity_matches_second", "second_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    second_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    first_share: Mapped[float] = mapped_column(Float)
    second_share: Mapped[float] = mapped_column(Float)
    first_regions: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    second_regions: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    first: Mapped[Submission] = relationship(foreign_keys=[first_id])
    second: Mapped[Submission] = relationship(foreign_keys=[second_id])


class SessionSignal(Base):
    """Something the answer page noticed while the assessment ran: the page opened, the first
    keystroke, a paste (its size, and whether the text came from outside the page), the page
    hidden and for how long, the answer sent. ``at_ms`` is from the page's opening (``visit``:
    one opening of one question's page), on the candidate's clock."""

    __tablename__ = "session_signals"
    __table_args__ = (Index("ix_session_signals_attempt", "attempt_id", "question_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("assessment_attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    visit: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    at_ms: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
