"""What the admin question pages need: saving the editor, history and diffs (imports: staged_imports.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from webapp.core.errors import ServiceError
from webapp.identity.models import User
from webapp.questions.admin_form import QuestionForm, form_limits, form_to_spec
from webapp.questions.editing import create_question, revise_question
from webapp.questions.models import Question, QuestionRevision, Topic
from webapp.questions.verification import CheckFailed, CheckOutcome, ReferenceCheck, solutions_problem


def list_topics(db: Session) -> list[Topic]:
    return list(db.scalars(select(Topic).order_by(Topic.position, Topic.name)))


def get_question(db: Session, *, slug: str) -> Question | None:
    return db.scalar(
        select(Question).where(Question.slug == slug)
        .options(selectinload(Question.current_revision), selectinload(Question.revisions))
    )


def save_question_form(
    db: Session, *, form: QuestionForm, question: Question | None, actor: User, check: ReferenceCheck | None = None
) -> tuple[Question | None, dict[str, str]]:
    """Create a question, or revise ``question``; returns it, or the field errors.

    A published code question keeps a reference solution that passes its hidden tests.
    """
    if question is not None:
        # The slug is the question's identity and the status has its own buttons.
        form.slug, form.status = question.slug, question.status.value
        if not form.calibration and question.current_revision is not None:
            form.calibration = question.current_revision.calibration
    spec, errors = form_to_spec(form)
    if spec is None:
        return None, errors
    if spec.kind == "code" and spec.status == "published":
        if problem := solutions_problem(check, question=spec):
            return None, {"reference_solution": problem}
    try:
        if question is None:
            return create_question(db, spec=spec, actor=actor), {}
        revise_question(db, question=question, spec=spec, actor=actor)
        return question, {}
    except ServiceError as exc:
        return None, exc.errors


def run_reference(check: ReferenceCheck | None, *, form: QuestionForm) -> CheckOutcome | None:
    """Grade the editor's reference solution against its hidden tests, as candidates' code is graded."""
    if check is None:
        return None
    try:
        return check(form.reference_solution, form.hidden_tests, form_limits(form))
    except Exception as exc:  # invalid hidden tests, or the runner failed: say so, as the queue would
        return CheckFailed(str(exc))


def revision_with_previous(
    question: Question, *, number: int
) -> tuple[QuestionRevision, QuestionRevision | None] | None:
    by_number = {r.number: r for r in question.revisions}
    if number not in by_number:
        return None
    earlier = [n for n in by_number if n < number]
    return by_number[number], by_number[max(earlier)] if earlier else None
