"""The answers the grading benchmarks send, and how they wait for grades.

Text, choice and code answers, the same every time: a text that covers most rubric points,
the correct choices, each code challenge's reference solution (every hidden test passing:
the full cost of a sandbox run).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select

from bench.common import BenchSite
from webapp.questions.bank import QuestionSpec, default_bank_dir, read_path
from webapp.submissions.models import Submission, SubmissionStatus

KINDS = ("text", "choice", "code")
RUNS = 3
TEXT_ANSWER = ("FastAPI is an ASGI framework built on Starlette, so async endpoints share an event loop, while "
               "Flask is WSGI. Pydantic models validate request bodies from type hints, bad input gets a 422, "
               "and the same declarations produce OpenAPI docs. Flask has the more mature extension ecosystem.")
BANK = [q for q in read_path(default_bank_dir()).questions if q.status == "published"]


@dataclass(frozen=True)
class Answer:
    question: QuestionSpec
    form: dict[str, str | list[str]]  # as the answer form posts it
    columns: dict[str, object]  # as the submissions row stores it


def answers(kind: str) -> list[Answer]:
    made = []
    for q in (q for q in BANK if q.kind == kind):
        if kind == "text":
            made.append(Answer(q, {"answer": TEXT_ANSWER}, {"answer_text": TEXT_ANSWER}))
        elif kind == "choice":
            correct = [c.id for c in q.choices if c.correct]
            made.append(Answer(q, {"choice": correct}, {"choice_ids": correct}))
        else:
            made.append(Answer(q, {"code": q.reference_solution}, {"code": q.reference_solution}))
    return made


def wait_graded(site: BenchSite, ids: list[int], *, timeout: float = 600) -> list[Row[Any]]:
    """The rows of ``ids`` once none is queued or running (polling with a deadline)."""
    deadline = time.monotonic() + timeout
    with site.session() as db:
        while db.scalar(select(func.count()).select_from(Submission).where(
                Submission.id.in_(ids), Submission.status.in_([SubmissionStatus.queued, SubmissionStatus.running]))):
            db.rollback()
            if time.monotonic() > deadline:
                raise RuntimeError(f"grading did not finish within {timeout} s")
            time.sleep(0.05)
        return list(db.execute(select(Submission.status, Submission.queued_at, Submission.started_at,
                                      Submission.finished_at, Submission.id).where(Submission.id.in_(ids))))


def graded_per_second(rows: list[Row[Any]], *, since: datetime) -> float:
    """Answers per second from ``since`` to the last stored grade."""
    return len(rows) / (max(r.finished_at for r in rows) - since).total_seconds()

