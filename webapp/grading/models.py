"""What the database keeps about the graders themselves (the queue is the submissions table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db import Base, UTCDateTime, utcnow


class GraderWorker(Base):
    """A grader process (in a web process, or `rehearse worker`), seen through its heartbeats."""

    __tablename__ = "grader_workers"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_heartbeat: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    jobs_done: Mapped[int] = mapped_column(Integer, default=0)
