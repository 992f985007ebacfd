"""Every email the site sends, kept as a row first: written in the transaction that decided to
send it, delivered after that transaction commits (webapp/mail/delivery.py), and tried again on a
schedule while the SMTP server refuses it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_sent_at", "sent_at", "id"),
                      Index("ix_outbox_messages_next_attempt_at", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    via: Mapped[str] = mapped_column(String(10), default="")  # "smtp", or "log" without an SMTP server
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")  # the last attempt's, while not sent
    # When a sender may take it next: a retry's time, or the end of a sender's claim while it is being
    # sent. None once it is sent or given up.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # given up after its last attempt
    claim_token: Mapped[str | None] = mapped_column(String(32))  # the sender holding it, while one does
