"""Assessments: building them, inviting candidates, taking them against a server-side deadline."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from webapp.assessments.models import Assessment, AssessmentAttempt, AssessmentQuestion, CandidateFeedback
from webapp.audit.service import record_event
from webapp.core.db import utcnow
from webapp.core.errors import Conflict, Invalid, NotFound
from webapp.core.inputs import whole_number
from webapp.identity.models import Role, User
from webapp.mail.delivery import queue_message
from webapp.questions.models import Question, QuestionStatus

MAX_QUESTIONS = 20
MAX_POSITION = 999  # what may be typed as a question's position (gaps are closed up)


def _feedback_choice(value: str, errors: dict[str, str]) -> CandidateFeedback:
    if value not in CandidateFeedback.__members__:
        errors["candidate_feedback"] = "Choose what candidates see once the assessment ends."
        return CandidateFeedback.score
    return CandidateFeedback(value)


def question_order(slugs: list[str], positions: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The chosen questions in the order the candidate sees them: by the position typed beside each
    (``positions``: slug → text), ties in the order they were listed, gaps closed up; those left
    without a position come after, in the order listed. Errors are keyed ``position-<slug>``."""
    errors: dict[str, str] = {}
    keyed: list[tuple[int, int, int, str]] = []
    for listed, slug in enumerate(slugs):
        typed = positions.get(slug, "").strip()
        number = whole_number(typed, low=1, high=MAX_POSITION) if typed else None
        if typed and number is None:
            errors[f"position-{slug}"] = f"A position is a whole number from 1 to {MAX_POSITION}."
        keyed.append((number is None, number or 0, listed, slug))
    return [slug for *_, slug in sorted(keyed)], errors


def create_assessment(db: Session, *, owner: User, title: str, slugs: list[str], minutes: str,
                      candidate_feedback: str = CandidateFeedback.score.value,
                      positions: Mapping[str, str] | None = None) -> Assessment:
    """A new assessment of the questions ``slugs``, in the order ``positions`` gives (``question_order``)."""
    errors: dict[str, str] = {}
    feedback = _feedback_choice(candidate_feedback, errors)
    if not title.strip():
        errors["title"] = "Give the assessment a title."
    time_limit = whole_number(minutes, low=5, high=480)
    if time_limit is None:
        errors["time_limit"] = "The time limit is a whole number of minutes from 5 to 480."
    wanted, position_errors = question_order(list(dict.fromkeys(slugs)), positions or {})
    errors.update(position_errors)
    questions = {q.slug: q for q in db.scalars(select(Question).where(
        Question.slug.in_(wanted), Question.status == QuestionStatus.published))}
    if not wanted or len(wanted) > MAX_QUESTIONS:
        errors["questions"] = f"Pick from 1 to {MAX_QUESTIONS} questions."
    elif missing := [s for s in wanted if s not in questions]:
        errors["questions"] = f"Not published: {', '.join(missing)}."
    elif position_errors:  # said at the top of the list too: the field may be far down it
        errors["questions"] = (f"Some positions below are not whole numbers from 1 to {MAX_POSITION}: "
                               "correct them, or leave them empty.")
    if errors or time_limit is None:
        raise Invalid(errors)
    assessment = Assessment(title=title.strip()[:200], owner_id=owner.id, time_limit_minutes=time_limit,
                            invite_code=secrets.token_urlsafe(9), candidate_feedback=feedback)
    assessment.items = [AssessmentQuestion(question_id=questions[s].id, position=n) for n, s in enumerate(wanted, 1)]
    db.add(assessment)
    db.flush()
    record_event(db, actor=owner, action="assessment.created", target=f"assessment:{assessment.id}",
                 summary=f"{assessment.title}: {len(wanted)} questions, {minutes} min, candidates see {feedback.value}")
    return assessment


def set_candidate_feedback(db: Session, *, assessment: Assessment, value: str, actor: User) -> None:
    """Change what candidates see once the assessment ends (it applies at once, to every attempt)."""
    errors: dict[str, str] = {}
    feedback = _feedback_choice(value, errors)
    if errors:
        raise Invalid(errors)
    if feedback == assessment.candidate_feedback:
        return
    before, assessment.candidate_feedback = assessment.candidate_feedback, feedback
    record_event(db, actor=actor, action="assessment.feedback_changed", target=f"assessment:{assessment.id}",
                 summary=f"{assessment.title}: candidates see {feedback.value} (was {before.value})",
                 details={"before": before.value, "after": feedback.value})


def owned_assessment(db: Session, *, assessment_id: int, viewer: User) -> Assessment | None:
    assessment = db.scalar(select(Assessment).where(Assessment.id == assessment_id)
                           .options(selectinload(Assessment.attempts).joinedload(AssessmentAttempt.candidate)))
    if assessment is None or (viewer.role != Role.admin and assessment.owner_id != viewer.id):
        return None
    return assessment


def list_assessments(db: Session, *, viewer: User) -> list[Assessment]:
    statement = select(Assessment).where(Assessment.kind == "assessment").order_by(Assessment.created_at.desc())
    if viewer.role != Role.admin:
        statement = statement.where(Assessment.owner_id == viewer.id)
    return list(db.scalars(statement))


def _attempt_for(db: Session, assessment: Assessment, candidate: User) -> AssessmentAttempt:
    attempt = db.scalar(select(AssessmentAttempt).where(AssessmentAttempt.assessment_id == assessment.id,
                                                        AssessmentAttempt.candidate_id == candidate.id))
    if attempt is None:
        attempt = AssessmentAttempt(assessment_id=assessment.id, candidate_id=candidate.id)
        db.add(attempt)
        db.flush()
    return attempt


def invite_by_email(db: Session, *, assessment: Assessment, emails: str, actor: User,
                    public_url: str = "") -> list[str]:
    """Invite existing candidates, each by an email with the link (sent after the commit); returns who
    was invited (unknown addresses raise, inviting no one)."""
    wanted = [e.casefold() for e in re.split(r"[\s,;]+", emails) if e]
    found = {u.email: u for u in db.scalars(select(User).where(User.email.in_(wanted), User.is_active.is_(True),
                                                               User.role == Role.candidate))}
    if not wanted:
        raise Invalid({"emails": "Enter at least one email address."})
    if unknown := [e for e in wanted if e not in found]:
        raise Invalid({"emails": f"No candidate account for: {', '.join(unknown)}. "
                                              "Ask them to sign up, or share the invite code."})
    for user in found.values():
        attempt = _attempt_for(db, assessment, user)
        if public_url:
            _invitation(db, assessment=assessment, attempt=attempt, candidate=user, interviewer=actor,
                        public_url=public_url)
    record_event(db, actor=actor, action="assessment.invited", target=f"assessment:{assessment.id}",
                 summary=", ".join(found))
    return list(found)


def _invitation(db: Session, *, assessment: Assessment, attempt: AssessmentAttempt, candidate: User,
                interviewer: User, public_url: str) -> None:
    link = f"{public_url.rstrip('/')}/assessments/take/{attempt.id}"
    queue_message(db, to=candidate.email, subject=f"You are invited: {assessment.title}"[:200], body=(
        f"Hello {candidate.display_name},\n\n{interviewer.display_name} invites you to the assessment "
        f"\u201c{assessment.title}\u201d on Rehearse: {len(assessment.items)} question(s), "
        f"{assessment.time_limit_minutes} minutes once you start. The clock starts only when you press Start.\n\n"
        f"{link}\n"))


def join_by_code(db: Session, *, code: str, candidate: User) -> AssessmentAttempt:
    if not code.strip():
        raise Invalid({"code": "Enter the invite code you were given."})
    assessment = db.scalar(select(Assessment).where(Assessment.invite_code == code.strip(),
                                                    Assessment.kind == "assessment"))
    if assessment is None:
        raise NotFound({"code": "No assessment has this invite code. Check it and try again."})
    return _attempt_for(db, assessment, candidate)


def my_attempt(db: Session, *, attempt_id: int, candidate: User) -> AssessmentAttempt | None:
    attempt = db.scalar(select(AssessmentAttempt).where(AssessmentAttempt.id == attempt_id)
                        .options(joinedload(AssessmentAttempt.assessment)))
    return attempt if attempt is not None and attempt.candidate_id == candidate.id else None


def my_attempts(db: Session, *, candidate: User) -> list[AssessmentAttempt]:
    return list(db.scalars(select(AssessmentAttempt).join(Assessment)
                           .where(AssessmentAttempt.candidate_id == candidate.id, Assessment.kind == "assessment")
                           .options(joinedload(AssessmentAttempt.assessment)).order_by(AssessmentAttempt.id.desc())))


def start(db: Session, *, attempt: AssessmentAttempt) -> None:
    """Start the clock once; starting again never moves the deadline."""
    if attempt.started_at is None:
        now = utcnow()
        attempt.started_at = now
        attempt.deadline_at = now + timedelta(minutes=attempt.assessment.time_limit_minutes)


def finish(db: Session, *, attempt: AssessmentAttempt) -> None:
    if attempt.started_at is None:
        raise Conflict({"form": "Start the assessment before submitting it."})
    if attempt.submitted_at is None:
        attempt.submitted_at = min(utcnow(), attempt.deadline_at or utcnow())


def check_can_answer(*, attempt: AssessmentAttempt, user: User, question: Question, now: datetime) -> None:
    """Refuse answers outside a running attempt: the deadline is the server's, not the browser's."""
    if attempt.candidate_id != user.id:
        raise NotFound({"form": "There is no such assessment for you."})
    if attempt.started_at is None:
        raise Conflict({"form": "Start the assessment before answering."})
    if attempt.submitted_at is not None:
        raise Conflict({"form": "You have already submitted this assessment; answers are closed."})
    if attempt.deadline_at is not None and now >= attempt.deadline_at:
        raise Conflict({"form": "Time is up for this assessment: answers are no longer accepted."})
    if question.id not in {item.question_id for item in attempt.assessment.items}:
        raise Conflict({"form": "This question is not part of the assessment."})


def check_practice_allowed(db: Session, *, user: User, question: Question, now: datetime) -> None:
    """Refuse a practice answer to a question of the user's running assessment (or mock): its
    practice feedback would show the model answer the assessment withholds."""
    running = db.scalar(
        select(Assessment.title).join(AssessmentAttempt, AssessmentAttempt.assessment_id == Assessment.id)
        .join(AssessmentQuestion, AssessmentQuestion.assessment_id == Assessment.id)
        .where(AssessmentAttempt.candidate_id == user.id, AssessmentQuestion.question_id == question.id,
               AssessmentAttempt.started_at.isnot(None), AssessmentAttempt.submitted_at.is_(None),
               AssessmentAttempt.deadline_at > now).limit(1))
    if running is not None:
        raise Conflict({"form": f"This question is part of “{running}”, which you are taking now: "
                                            "answer it there. Practice opens again when it ends."})
