"""A candidate answers a question: in practice, in an assessment or in a mock interview.

The one workflow that crosses the layers below: the answer is checked (submissions, with the
assessment's rules), queued for grading (grading), and an assessment answer also goes to the
interviewer's review queue (review).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.assessments.models import AssessmentAttempt
from webapp.grading.queue import enqueue
from webapp.identity.models import User
from webapp.questions.models import Question
from webapp.review.service import request_review
from webapp.submissions.models import Submission
from webapp.submissions.service import AnswerInput, SubmissionPolicy, new_submission


def submit_answer(db: Session, *, user: User, question: Question, answer: AnswerInput,
                  policy: SubmissionPolicy, attempt: AssessmentAttempt | None = None) -> Submission:
    """Check and queue an answer (raises a ServiceError); graders wake when the request commits.
    The same form sent again unchanged returns the answer it already made."""
    sent_form = answer.sent_form()
    if sent_form and (earlier := _sent_before(db, user=user, sent_form=sent_form)):
        return earlier
    submission = new_submission(db, user=user, question=question, answer=answer, policy=policy, attempt=attempt)
    submission.sent_form = sent_form
    try:
        with db.begin_nested():
            enqueue(db, submission=submission)
    except IntegrityError:  # sent twice at once: the other request stored it first
        if sent_form is None or (earlier := _sent_before(db, user=user, sent_form=sent_form)) is None:
            raise
        return earlier
    if attempt is not None:  # assessment answers always go to the interviewer's queue
        request_review(db, submission=submission, replaces_older=True)
    return submission


def _sent_before(db: Session, *, user: User, sent_form: str) -> Submission | None:
    return db.scalar(select(Submission).where(Submission.user_id == user.id, Submission.sent_form == sent_form))
