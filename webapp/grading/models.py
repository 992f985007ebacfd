"""What the database keeps about the graders themselves, and the example runs they take on
(the queue of answers is the submissions table)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, false
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


class RunStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"


class ExampleRun(Base):
    """A candidate's code run against a question's visible example tests (Run examples): queued
    like an answer so the sandbox runs on the graders, but never an answer: no score is kept,
    nothing counts towards progress, and rows are deleted a day later (grading/example_runs.py)."""

    __tablename__ = "example_runs"
    __table_args__ = (Index("ix_example_runs_status", "status", "id"), Index("ix_example_runs_user", "user_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("question_revisions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(Text)
    status: Mapped[RunStatus] = mapped_column(Enum(RunStatus, native_enum=False, length=20, validate_strings=True),
                                              default=RunStatus.queued)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the code grader's feedback, or {"problem": …}
    # Which tests: "example" (visible ones) or "hidden" (an interviewer's run in a live interview).
    suite: Mapped[str] = mapped_column(String(10), default="example", server_default="example")
    # Kept past the one-day sweep: an interview's runs belong to its replay.
    kept: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def is_pending(self) -> bool:
        return self.status != RunStatus.done
