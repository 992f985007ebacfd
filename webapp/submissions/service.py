"""Checking an answer before it is queued, and where a queued answer stands."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from webapp.assessments.models import AssessmentAttempt
from webapp.assessments.service import check_can_answer, check_practice_allowed
from webapp.core.db import utcnow
from webapp.core.errors import Invalid, NotFound, RateLimited, TooLarge
from webapp.identity.models import User
from webapp.questions.bank import ChoiceSpec
from webapp.questions.models import Question, QuestionKind
from webapp.submissions.models import Submission, SubmissionStatus
from webapp.submissions.uploads import CodeText, decode_code, read_upload

MAX_ANSWER_CHARS = 20_000


@dataclass(frozen=True)
class AnswerInput:
    answer: str = ""
    choices: tuple[str, ...] = ()
    code: str = ""
    upload_name: str = ""
    upload_data: bytes | None = None
    form_token: str = ""  # the answer form's one-time token ("" from a client without one)

    def sent_form(self) -> str | None:
        """The token with what the form carried: equal only for the same form sent again unchanged."""
        if not self.form_token:
            return None
        parts = (self.form_token, self.answer, "\n".join(sorted(self.choices)), self.code, self.upload_name,
                 hashlib.sha256(self.upload_data or b"").hexdigest())
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class SubmissionPolicy:
    max_upload_bytes: int
    per_window: int
    window: timedelta


def new_submission(db: Session, *, user: User, question: Question, answer: AnswerInput,
                   policy: SubmissionPolicy, attempt: AssessmentAttempt | None = None) -> Submission:
    """A checked, unsaved answer to the question's current revision (raises a ServiceError).

    Inside an assessment the attempt must be running and its deadline not passed; outside, the
    question must not be part of an assessment the user is taking right now.
    """
    if attempt is not None:
        check_can_answer(attempt=attempt, user=user, question=question, now=utcnow())
    else:
        check_practice_allowed(db, user=user, question=question, now=utcnow())
    _check_rate(db, user=user, policy=policy)
    revision = question.current_revision
    if revision is None:  # a question without a revision is never shown as open for answers
        raise NotFound({"form": "This question has no published text to answer yet."})
    submission = Submission(user_id=user.id, question_id=question.id, revision_id=revision.id, kind=revision.kind,
                            attempt_id=attempt.id if attempt else None)
    if revision.kind == QuestionKind.text:
        submission.answer_text = _text_answer(answer.answer)
    elif revision.kind == QuestionKind.choice:
        submission.choice_ids = _choices(answer.choices, revision.choices, multiple=revision.multiple)
    else:
        code = code_answer(answer, allowed=revision.allowed_extensions, max_bytes=policy.max_upload_bytes)
        submission.code, submission.code_filename = code.text, code.filename
        submission.code_size, submission.code_sha256 = code.size, code.sha256
    return submission


def _check_rate(db: Session, *, user: User, policy: SubmissionPolicy) -> None:
    since = utcnow() - policy.window
    recent = db.scalar(select(func.count()).select_from(Submission)
                       .where(Submission.user_id == user.id, Submission.queued_at > since)) or 0
    if recent >= policy.per_window:
        minutes = int(policy.window.total_seconds() // 60)
        raise RateLimited({"form": f"You have sent {recent} answers in the last {minutes} minutes. "
                                   "Take a short break and try again."})


def _text_answer(text: str) -> str:
    text = text.strip()
    if not text:
        raise Invalid({"answer": "Write an answer before submitting."})
    if len(text) > MAX_ANSWER_CHARS:
        raise Invalid({"answer": f"Keep your answer under {MAX_ANSWER_CHARS:,} characters."})
    return text


def _choices(chosen: tuple[str, ...], choices: list[ChoiceSpec], *, multiple: bool) -> list[str]:
    valid = {c.id for c in choices}
    picked = list(dict.fromkeys(chosen))
    if not picked:
        raise Invalid({"choice": "Pick an answer before submitting."})
    if any(c not in valid for c in picked):
        raise Invalid({"choice": "That choice does not belong to this question."})
    if not multiple and len(picked) > 1:
        raise Invalid({"choice": "This question has one answer: pick only one."})
    return sorted(picked)


def code_answer(answer: AnswerInput, *, allowed: list[str], max_bytes: int) -> CodeText:
    if answer.upload_data:
        return read_upload(answer.upload_data, filename=answer.upload_name, allowed=allowed, max_bytes=max_bytes)
    data = answer.code.encode("utf-8")
    if not answer.code.strip():
        raise Invalid({"code": "Paste your code or upload a file before submitting."})
    if len(data) > max_bytes:
        raise TooLarge({"code": f"The code is larger than {max_bytes // 1024} KiB."})
    return decode_code(data, filename="pasted code", field="code")


def queue_position(db: Session, *, submission: Submission) -> int | None:
    """1 when next in line; None unless the submission is waiting."""
    if submission.status != SubmissionStatus.queued:
        return None
    ahead = db.scalar(select(func.count()).select_from(Submission).where(
        Submission.status == SubmissionStatus.queued, Submission.kind == submission.kind,
        or_(Submission.queued_at < submission.queued_at,
            and_(Submission.queued_at == submission.queued_at, Submission.id < submission.id)),
    ))
    return (ahead or 0) + 1
