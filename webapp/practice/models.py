"""Spaced-repetition state per user and question, and each user's practice choices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Base, UTCDateTime, utcnow
from webapp.questions.models import Question


class PracticeCard(Base):
    """The FSRS card of one question for one user (the library's own serialisation)."""

    __tablename__ = "practice_cards"
    __table_args__ = (UniqueConstraint("user_id", "question_id"), Index("ix_practice_cards_user_due", "user_id", "due"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    due: Mapped[datetime] = mapped_column(UTCDateTime())
    last_review: Mapped[datetime] = mapped_column(UTCDateTime())
    last_score: Mapped[int] = mapped_column(Integer)
    last_rating: Mapped[int] = mapped_column(Integer)
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    question: Mapped[Question] = relationship()


class PracticeSettings(Base):
    __tablename__ = "practice_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
