"""Live interviews: scheduling one, who sees which, the room's questions, private notes, and
ending it with a scorecard. The shared document itself is interviews/document.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.service import record_event
from webapp.core.db import utcnow
from webapp.core.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.identity.models import Role, User
from webapp.interviews import document
from webapp.interviews.access import can_join, runs_the_room
from webapp.interviews.models import Interview, InterviewEvent, InterviewNote, InterviewQuestion
from webapp.interviews.texts import insert_text, text_name
from webapp.mail.delivery import queue_message
from webapp.questions.models import Question, QuestionStatus
from webapp.review.models import Recommendation

MAX_QUESTIONS = 10
MAX_NOTE_CHARS = 5_000
RATINGS = ("met", "partial", "missed", "wrong")  # as a review's (review/service.py)


def create_interview(db: Session, *, interviewer: User, candidate_email: str, question: str, title: str = "",
                     public_url: str = "") -> Interview:
    """Schedule an interview of an existing account with one question (more are added in the room);
    the candidate is emailed the link once this commits."""
    errors: dict[str, str] = {}
    email = candidate_email.strip().casefold()
    candidate = db.scalar(select(User).where(User.email == email, User.is_active.is_(True))) if email else None
    if not email:
        errors["candidate_email"] = "Enter the candidate's email address."
    elif candidate is None:
        errors["candidate_email"] = f"No account for {email}: ask them to sign up first."
    elif candidate.id == interviewer.id:
        errors["candidate_email"] = "You cannot interview yourself."
    asked = _published(db, question)
    if asked is None:
        errors["question"] = "Choose a published question by its slug." if question.strip() else \
            "Choose the first question."
    if len(title) > 200:
        errors["title"] = "Keep the title under 200 characters."
    if errors:
        raise Invalid(errors)
    assert candidate is not None and asked is not None
    interview = Interview(interviewer_id=interviewer.id, candidate_id=candidate.id,
                          title=title.strip() or f"Interview: {asked.title}"[:200])
    db.add(interview)
    db.flush()
    _add(db, interview=interview, question=asked)
    record_event(db, actor=interviewer, action="interview.created", target=f"interview:{interview.id}",
                 summary=f"{candidate.email}, {asked.slug}")
    if public_url:
        link = f"{public_url.rstrip('/')}/interviews/{interview.id}"
        queue_message(db, to=candidate.email, subject=f"Your interview: {interview.title}", body=(
            f"Hello {candidate.display_name},\n\n{interviewer.display_name} invites you to a live technical "
            f"interview on Rehearse: \u201c{interview.title}\u201d. You will both write code in one shared "
            f"editor. Open the link when it is time (signed in as {candidate.email}):\n\n{link}\n"))
    return interview


def _published(db: Session, slug: str) -> Question | None:
    found = db.scalar(select(Question).where(Question.slug == slug.strip())) if slug.strip() else None
    if found is None or found.status != QuestionStatus.published or found.current_revision is None:
        return None
    return found


def _add(db: Session, *, interview: Interview, question: Question) -> None:
    """Ask ``question`` now: it joins the room's list, becomes current, and its starter code is
    written into its text of the shared document (once, by the server, so two clients never both
    insert it)."""
    revision = question.current_revision
    assert revision is not None
    interview.questions.append(InterviewQuestion(question_id=question.id, revision_id=revision.id,
                                                 position=len(interview.questions) + 1))
    _became_current(db, interview=interview, question_id=question.id)
    db.flush()
    if starter := revision.starter_code:
        name = text_name(question.id)
        document.change_document(db, interview=interview, change=lambda doc: insert_text(doc, name, starter))


def _became_current(db: Session, *, interview: Interview, question_id: int) -> None:
    """Switch questions, and log when (the replay shows the code of the question current then)."""
    interview.current_question_id = question_id
    db.add(InterviewEvent(interview_id=interview.id, user_id=interview.interviewer_id, kind="question",
                          detail={"question_id": question_id}))


def list_for_staff(db: Session, *, viewer: User) -> Sequence[Interview]:
    """An interviewer's own interviews (admins: everyone's), newest first."""
    statement = select(Interview).order_by(Interview.id.desc()).limit(500)
    if viewer.role != Role.admin:
        statement = statement.where(Interview.interviewer_id == viewer.id)
    return db.scalars(statement).all()


def list_for_candidate(db: Session, *, candidate: User) -> Sequence[Interview]:
    return db.scalars(select(Interview).where(Interview.candidate_id == candidate.id)
                      .order_by(Interview.id.desc()).limit(500)).all()


def list_about(db: Session, *, candidate: User, viewer: User) -> Sequence[Interview]:
    """A candidate's interviews as a staff member may see them (their own record page)."""
    statement = select(Interview).where(Interview.candidate_id == candidate.id).order_by(Interview.id.desc())
    if viewer.role != Role.admin:
        statement = statement.where(Interview.interviewer_id == viewer.id)
    return db.scalars(statement).all()


def get_interview(db: Session, *, interview_id: int, viewer: User) -> Interview | None:
    """The interview if this viewer may join it (otherwise None: a 404, never a hint it exists)."""
    interview = db.get(Interview, interview_id)
    return interview if interview is not None and can_join(viewer, interview) else None


def _interviewer_only(interview: Interview, user: User) -> None:
    if not runs_the_room(user, interview):
        raise Forbidden({"form": "Only the interviewer can do this."})


def _open(interview: Interview) -> None:
    if interview.is_finished:
        raise Conflict({"form": "This interview has ended: the room is read-only."})


def add_question(db: Session, *, interview: Interview, slug: str, actor: User) -> Question:
    _interviewer_only(interview, actor)
    _open(interview)
    question = _published(db, slug)
    if question is None:
        raise Invalid({"question": "Choose a published question by its slug."})
    if any(item.question_id == question.id for item in interview.questions):
        return switch_question(db, interview=interview, question_id=question.id, actor=actor)
    if len(interview.questions) >= MAX_QUESTIONS:
        raise Invalid({"question": f"An interview holds at most {MAX_QUESTIONS} questions."})
    _add(db, interview=interview, question=question)
    document.signal(db, interview_id=interview.id, message={"type": "question", "question_id": question.id})
    return question


def ask(db: Session, *, interview: Interview, slug: str, question_id: str, actor: User) -> Question:
    """The room's question form: switch to one already asked (``question_id``), else add ``slug``."""
    if question_id:
        return switch_question(db, interview=interview, question_id=int(question_id) if question_id.isdigit() else 0,
                               actor=actor)
    return add_question(db, interview=interview, slug=slug, actor=actor)


def switch_question(db: Session, *, interview: Interview, question_id: int, actor: User) -> Question:
    _interviewer_only(interview, actor)
    _open(interview)
    item = next((item for item in interview.questions if item.question_id == question_id), None)
    if item is None:
        raise NotFound({"question": "That question is not part of this interview."})
    _became_current(db, interview=interview, question_id=question_id)
    document.signal(db, interview_id=interview.id, message={"type": "question", "question_id": question_id})
    return item.question


def current_item(interview: Interview) -> InterviewQuestion | None:
    return next((i for i in interview.questions if i.question_id == interview.current_question_id), None)


def add_note(db: Session, *, interview: Interview, author: User, body: str) -> InterviewNote:
    _interviewer_only(interview, author)
    text = body.strip()
    if not text:
        raise Invalid({"body": "Write the note first."})
    if len(text) > MAX_NOTE_CHARS:
        raise Invalid({"body": f"Keep a note under {MAX_NOTE_CHARS:,} characters (this one has {len(text):,})."})
    note = InterviewNote(interview_id=interview.id, author_id=author.id, body=text)
    db.add(note)
    db.flush()
    return note


def notes_of(db: Session, *, interview: Interview, viewer: User) -> Sequence[InterviewNote]:
    """The private notes: for the interviewer's side only (an empty list for anyone else)."""
    if not runs_the_room(viewer, interview):
        return []
    return db.scalars(select(InterviewNote).where(InterviewNote.interview_id == interview.id)
                      .order_by(InterviewNote.id)).all()


@dataclass(frozen=True)
class InterviewScorecard:
    ratings: dict[str, str]  # "<question id>-<rubric point index>" → met / partial / missed / wrong
    recommendation: str
    overall_comment: str


def end_interview(db: Session, *, interview: Interview, actor: User, card: InterviewScorecard) -> None:
    """End with the scorecard: the room becomes read-only for both, and the card lands in the
    candidate's record (their page for staff)."""
    _interviewer_only(interview, actor)
    _open(interview)
    recommendation = Recommendation(card.recommendation) if card.recommendation in Recommendation.__members__ \
        else None
    errors: dict[str, str] = {}
    if recommendation is None:
        errors["recommendation"] = "Choose a recommendation to end the interview."
    if len(card.overall_comment) > 20_000:
        errors["overall_comment"] = "Keep the comment under 20,000 characters."
    if errors:
        raise Invalid(errors)
    points = {f"{item.question_id}-{n}" for item in interview.questions for n in range(len(item.revision.rubric))}
    interview.point_ratings = {key: value for key, value in card.ratings.items() if key in points and value in RATINGS}
    interview.recommendation = recommendation
    interview.overall_comment = card.overall_comment.strip()
    interview.ended_at = utcnow()
    record_event(db, actor=actor, action="interview.ended", target=f"interview:{interview.id}",
                 summary=f"recommendation {card.recommendation}")
    document.signal(db, interview_id=interview.id, message={"type": "ended"})
