"""The session signals of one attempt, per question, as an interviewer reads them: each opening
of the question's page with what happened and when, and a one-line summary. Facts only: no
score, no verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.assessments.models import AssessmentAttempt
from webapp.integrity.models import SessionSignal


@dataclass(frozen=True)
class Moment:
    at_ms: int
    kind: str
    size: int = 0
    external: bool = False
    ms: int = 0


@dataclass
class Visit:
    opened_at: datetime  # when the server heard of it (the candidate's clock is not trusted)
    moments: list[Moment] = field(default_factory=list)


@dataclass
class QuestionSignals:
    visits: list[Visit] = field(default_factory=list)

    def _all(self, kind: str) -> list[Moment]:
        return [m for visit in self.visits for m in visit.moments if m.kind == kind]

    @property
    def pastes(self) -> list[Moment]:
        return self._all("paste")

    @property
    def external_pastes(self) -> list[Moment]:
        return [m for m in self.pastes if m.external]

    @property
    def pasted_chars(self) -> int:
        return sum(m.size for m in self.pastes)

    @property
    def hidden(self) -> list[Moment]:
        return self._all("hidden")

    @property
    def hidden_ms(self) -> int:
        return sum(m.ms for m in self.hidden)

    @property
    def first_input_ms(self) -> int | None:
        """From opening the page to the first keystroke, in the first visit that had one."""
        return next((m.at_ms for visit in self.visits for m in visit.moments if m.kind == "first_input"), None)

    @property
    def submitted_ms(self) -> int | None:
        """From opening the page to sending the answer, in the last visit that sent one."""
        sent = [m.at_ms for visit in self.visits for m in visit.moments if m.kind == "submitted"]
        return sent[-1] if sent else None


@dataclass(frozen=True)
class AttemptSignals:
    by_question: dict[int, QuestionSignals]

    @property
    def recorded(self) -> bool:
        """Whether any answer page sent signals: without JavaScript none does."""
        return bool(self.by_question)


def attempt_signals(db: Session, *, attempt: AssessmentAttempt) -> AttemptSignals:
    rows = db.scalars(select(SessionSignal).where(SessionSignal.attempt_id == attempt.id)
                      .order_by(SessionSignal.question_id, SessionSignal.id))
    by_question: dict[int, QuestionSignals] = {}
    visits: dict[tuple[int, str], Visit] = {}
    for row in rows:
        question = by_question.setdefault(row.question_id, QuestionSignals())
        visit = visits.get((row.question_id, row.visit))
        if visit is None:
            visit = visits[(row.question_id, row.visit)] = Visit(row.received_at)
            question.visits.append(visit)
        detail = row.detail or {}
        visit.moments.append(Moment(row.at_ms, row.kind, int(detail.get("size", 0)), bool(detail.get("external")),
                                    int(detail.get("ms", 0))))
    for question in by_question.values():
        for visit in question.visits:
            visit.moments.sort(key=lambda moment: moment.at_ms)
    return AttemptSignals(by_question)
