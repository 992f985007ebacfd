"""Admin pages for the question bank: list, editor, status, history, import and export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from webapp.core.errors import ServiceError
from webapp.core.markup import render_markdown
from webapp.grading.verification import reference_checker
from webapp.questions import curation
from webapp.questions.admin_form import QuestionForm, apply_action, form_from_spec, parse_form
from webapp.questions.catalogue import QuestionFilters, browse_questions
from webapp.questions.diffs import revision_diffs
from webapp.questions.editing import set_status, spec_of
from webapp.questions.models import Question, QuestionStatus
from webapp.questions.verification import ReferenceCheck
from webapp.web.deps import AdminUser, FormDataDep, SessionDep
from webapp.web.errors import redirect_to
from webapp.web.params import FormText, Line, Position
from webapp.web.rendering import flash, render

router = APIRouter(prefix="/admin/questions")
ALL_STATUSES = tuple(QuestionStatus)


def question_or_404(db: SessionDep, slug: Line) -> Question:
    question = curation.get_question(db, slug=slug)
    if question is None:
        raise HTTPException(404, "There is no question with this slug.")
    return question


QuestionDep = Annotated[Question, Depends(question_or_404)]


def code_check(request: Request) -> ReferenceCheck | None:
    return reference_checker(request.app.state.grader.graders.get("code"))


CheckDep = Annotated[ReferenceCheck | None, Depends(code_check)]


def _editor(request: Request, db: SessionDep, form: QuestionForm, *, question: Question | None,
            errors: dict[str, str] | None = None, status_code: int = 200, **extra: object) -> Response:
    context = {"form": form, "question": question, "errors": errors or {}, "topics": curation.list_topics(db), **extra}
    return render(request, "admin/questions/edit.html", context, block="editor", status_code=status_code)


@router.get("")
def admin_question_list(request: Request, db: SessionDep,
                        filters: Annotated[QuestionFilters, Query()]) -> Response:
    page = browse_questions(db, filters=filters, statuses=ALL_STATUSES)
    clean_url = f"/admin/questions?{page.filters.query_string()}".rstrip("?")
    return render(request, "admin/questions/list.html", {"page": page, "filters": page.filters}, block="results",
                  headers={"HX-Push-Url": clean_url})


@router.get("/new")
def new_question(request: Request, db: SessionDep) -> Response:
    return _editor(request, db, QuestionForm.blank(), question=None)


@router.post("/new")
def create_question(request: Request, db: SessionDep, admin: AdminUser, data: FormDataDep, check: CheckDep) -> Response:
    return _save(request, db, admin, data, question=None, check=check)


@router.get("/{slug}/edit")
def edit_question(request: Request, db: SessionDep, question: QuestionDep) -> Response:
    return _editor(request, db, form_from_spec(spec_of(question)), question=question)


@router.post("/{slug}/edit")
def update_question(request: Request, db: SessionDep, admin: AdminUser, question: QuestionDep,
                    data: FormDataDep, check: CheckDep) -> Response:
    return _save(request, db, admin, data, question=question, check=check)


def _save(request: Request, db: SessionDep, admin: AdminUser, data: FormData, *, question: Question | None,
          check: ReferenceCheck | None) -> Response:
    form = parse_form(data.multi_items())
    action = str(data.get("action", "save"))
    if action == "run-reference":  # without JavaScript: the editor again, with the results under the solution
        return _editor(request, db, form, question=question, reference_result=curation.run_reference(check, form=form))
    if action != "save":  # add/remove/reorder a row, or refresh after changing the kind
        return _editor(request, db, apply_action(form, action), question=question)
    saved, errors = curation.save_question_form(db, form=form, question=question, actor=admin, check=check)
    if saved is None:
        return _editor(request, db, form, question=question, errors=errors, status_code=422)
    flash(request, f"Saved “{saved.title}” (revision {saved.revision.number}).", "success")
    return redirect_to(request, "edit_question", slug=saved.slug)


@router.post("/preview")
def preview_markdown(request: Request, prompt: FormText = "") -> Response:
    return render(request, "admin/questions/_preview.html", {"html": render_markdown(prompt)})


@router.post("/run-reference")
def run_reference(request: Request, data: FormDataDep, check: CheckDep) -> Response:
    """Grade the editor's reference solution now, exactly as candidates' code is graded."""
    result = curation.run_reference(check, form=parse_form(data.multi_items()))
    return render(request, "admin/questions/_reference_result.html", {"result": result})


@router.post("/{slug}/status")
def change_status(request: Request, db: SessionDep, admin: AdminUser, question: QuestionDep,
                  status: Annotated[QuestionStatus, Form()], check: CheckDep) -> Response:
    try:
        set_status(db, question=question, status=status, actor=admin, check=check)
    except ServiceError as exc:
        flash(request, exc.errors["status"], "error")
        return redirect_to(request, "edit_question", slug=question.slug)
    flash(request, f"“{question.title}” is now {status.value}.", "success")
    return redirect_to(request, "edit_question", slug=question.slug)


@router.get("/{slug}/revisions")
def revision_history(request: Request, question: QuestionDep) -> Response:
    return render(request, "admin/questions/history.html", {"question": question})


@router.get("/{slug}/revisions/{number}")
def revision_detail(request: Request, question: QuestionDep, number: Position) -> Response:
    found = curation.revision_with_previous(question, number=number)
    if found is None:
        raise HTTPException(404, "This question has no such revision.")
    revision, previous = found
    diffs = revision_diffs(revision, previous)
    return render(request, "admin/questions/revision.html",
                  {"question": question, "revision": revision, "previous": previous, "diffs": diffs})
