"""A candidate answers a question: in practice, in an assessment or in a mock interview.

The one workflow that crosses the layers below: the answer is checked (submissions, with the
assessment's rules), queued for grading (grading), and an assessment answer also goes to the
interviewer's review queue (review).
"""

from __future__ import annotations

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
    """Check and queue an answer (raises a ServiceError); graders wake when the request commits."""
    submission = new_submission(db, user=user, question=question, answer=answer, policy=policy, attempt=attempt)
    enqueue(db, submission=submission)
    if attempt is not None:  # assessment answers always go to the interviewer's queue
        request_review(db, submission=submission, replaces_older=True)
    return submission
