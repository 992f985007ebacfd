"""Who may see which submission: the owner, admins, and interviewers outside other people's assessments
(and fetching submissions through that rule)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.orm import Session, joinedload

from webapp.assessments.models import Assessment, AssessmentAttempt
from webapp.identity.models import Role, User
from webapp.submissions.models import Submission


def staff_visible(user: User) -> ColumnElement[bool]:
    """SQL condition: submissions an interviewer or admin may review."""
    if user.role == Role.admin:
        return Submission.id.isnot(None)
    own_assessments = (select(AssessmentAttempt.id).join(Assessment, Assessment.id == AssessmentAttempt.assessment_id)
                       .where(Assessment.owner_id == user.id))
    return or_(Submission.attempt_id.is_(None), Submission.attempt_id.in_(own_assessments))


def visible_to(user: User) -> ColumnElement[bool]:
    """SQL twin of ``can_view``: the user's own answers, and those they may review."""
    if user.role == Role.candidate:
        return Submission.user_id == user.id
    return or_(Submission.user_id == user.id, staff_visible(user))


def can_review(user: User, submission: Submission) -> bool:
    if user.role == Role.admin:
        return True
    if user.role != Role.interviewer:
        return False
    return submission.attempt_id is None or submission.attempt is not None and \
        submission.attempt.assessment.owner_id == user.id


def can_view(user: User, submission: Submission) -> bool:
    return submission.user_id == user.id or can_review(user, submission)


# Built once: on the submission page, building this statement cost more than running it.
_BY_ID = (select(Submission).where(Submission.id == bindparam("submission_id"))
          .options(joinedload(Submission.revision), joinedload(Submission.question), joinedload(Submission.user)))


def get_submission(db: Session, *, submission_id: int, viewer: User) -> Submission | None:
    """The submission if it exists and this viewer may see it (owner, interviewer or admin)."""
    submission = db.scalar(_BY_ID, {"submission_id": submission_id})
    return submission if submission is not None and can_view(viewer, submission) else None


def earlier_attempts(db: Session, *, submission: Submission, viewer: User, limit: int = 10) -> list[Submission]:
    """The same user's other answers to the same question that this viewer may open, newest first."""
    return list(db.scalars(
        select(Submission).where(Submission.user_id == submission.user_id,
                                 Submission.question_id == submission.question_id, Submission.id != submission.id,
                                 visible_to(viewer))
        .options(joinedload(Submission.attempt).joinedload(AssessmentAttempt.assessment))
        .order_by(Submission.id.desc()).limit(limit)
    ))
