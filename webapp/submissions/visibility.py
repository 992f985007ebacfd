"""How much of an answer its author sees: the one rule, in Python and in SQL.

- Practice answers (outside any assessment): everything.
- Answers in an assessment or mock interview that is still running: only that they were
  received (and graded), never how.
- Once it has ended (submitted, or past its deadline): a mock shows everything; an
  assessment shows what its interviewer chose (``Assessment.candidate_feedback``).

Interviewers and admins who may open someone else's answer (``review/access.py``) see all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select

from webapp.assessments.models import Assessment, AssessmentAttempt, CandidateFeedback
from webapp.identity.models import User
from webapp.submissions.models import Submission

_AT_LEAST = {
    CandidateFeedback.nothing: (CandidateFeedback.nothing, CandidateFeedback.score, CandidateFeedback.full),
    CandidateFeedback.score: (CandidateFeedback.score, CandidateFeedback.full),
    CandidateFeedback.full: (CandidateFeedback.full,),
}


@dataclass(frozen=True)
class Shown:
    level: CandidateFeedback
    note: str = ""  # why the rest is withheld, for the author

    @property
    def score(self) -> bool:
        return self.level in _AT_LEAST[CandidateFeedback.score]

    @property
    def full(self) -> bool:
        return self.level == CandidateFeedback.full


FULL = Shown(CandidateFeedback.full)


def shown_to_author(attempt: AssessmentAttempt | None, *, now: datetime) -> Shown:
    if attempt is None:
        return FULL
    mock = attempt.assessment.kind == "mock"
    level = CandidateFeedback.full if mock else CandidateFeedback(attempt.assessment.candidate_feedback)
    if not attempt.has_ended(now):
        what = "mock interview" if mock else "assessment"
        return Shown(CandidateFeedback.nothing, f"Your answer is saved. Feedback is not shown while the {what} runs; "
                                                f"once it ends you will see {level.label.lower()}.")
    if level == CandidateFeedback.nothing:
        return Shown(level, "Your interviewer does not share the grades of this assessment with candidates.")
    if level == CandidateFeedback.score:
        return Shown(level, "Your interviewer shares only the score of each answer in this assessment.")
    return FULL


def shown_to(viewer: User | None, submission: Submission, *, now: datetime) -> Shown:
    """What this viewer, who may open the submission, sees of its grade and feedback."""
    if viewer is None:
        return Shown(CandidateFeedback.nothing)
    if viewer.id != submission.user_id:
        return FULL
    return shown_to_author(submission.attempt, now=now)


def author_sees(level: CandidateFeedback, *, now: datetime) -> ColumnElement[bool]:
    """SQL twin of ``shown_to_author``: submissions whose author sees at least ``level``."""
    ended = (select(AssessmentAttempt.id).join(Assessment, Assessment.id == AssessmentAttempt.assessment_id)
             .where(or_(AssessmentAttempt.submitted_at.isnot(None), AssessmentAttempt.deadline_at <= now),
                    or_(Assessment.kind == "mock", Assessment.candidate_feedback.in_(_AT_LEAST[level]))))
    return or_(Submission.attempt_id.is_(None), Submission.attempt_id.in_(ended))
