"""Who may see which submission: the owner, admins, and interviewers outside other people's assessments."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from webapp.identity.models import Role, User
from webapp.assessments.models import Assessment, AssessmentAttempt
from webapp.submissions.models import Submission


def staff_visible(user: User) -> ColumnElement[bool]:
    """SQL condition: submissions an interviewer or admin may review."""
    if user.role == Role.admin:
        return Submission.id.isnot(None)
    own_assessments = (select(AssessmentAttempt.id).join(Assessment, Assessment.id == AssessmentAttempt.assessment_id)
                       .where(Assessment.owner_id == user.id))
    return or_(Submission.attempt_id.is_(None), Submission.attempt_id.in_(own_assessments))


def visible_to(user: User) -> ColumnElement[bool]:
    """SQL twin of ``submissions.service.can_view``: the user's own answers, and those they may review."""
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
