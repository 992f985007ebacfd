"""Run examples: the candidate's code against the question's example tests, results in place."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi.responses import Response

from webapp.core.db import utcnow
from webapp.core.errors import ServiceError
from webapp.grading.models import ExampleRun
from webapp.grading.worker_presence import grading_available_for
from webapp.practice import example_runs
from webapp.questions.catalogue import get_visible_question
from webapp.questions.models import Question
from webapp.submissions.presenting import poll_delay_ms
from webapp.submissions.service import AnswerInput
from webapp.web.deps import CurrentUser, SessionDep, SettingsDep
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormText, Id, Line
from webapp.web.rendering import is_partial, render

router = APIRouter()


def _question(db: SessionDep, slug: str) -> Question:
    question = get_visible_question(db, slug=slug, viewer_is_admin=False)
    if question is None:
        raise HTTPException(404, "There is no such question, or it is not open for answers.")
    return question


@router.post("/questions/{slug}/runs")
def run_examples(request: Request, db: SessionDep, user: CurrentUser, settings: SettingsDep, slug: Line,
                 code: FormText = "", file: Annotated[UploadFile | None, File()] = None) -> Response:
    question = _question(db, slug)
    upload = file.file.read(settings.max_upload_bytes + 1) if file is not None and file.filename else None
    source = AnswerInput(code=code, upload_name=file.filename or "" if file else "", upload_data=upload)
    try:
        run = example_runs.start_run(db, user=user, question=question, code=source,
                                     max_bytes=settings.max_upload_bytes, now=utcnow())
    except ServiceError as exc:
        return render(request, "questions/run.html", {"question": question, "problem": exc.errors},
                      block="run", status_code=http_status(exc))
    if is_partial(request):
        return _render_run(request, db, question, run)
    return redirect_to(request, "example_run", slug=question.slug, run_id=run.id)


@router.get("/questions/{slug}/runs/{run_id}")
def example_run(request: Request, db: SessionDep, user: CurrentUser, slug: Line, run_id: Id) -> Response:
    question = _question(db, slug)
    run = example_runs.my_run(db, user=user, question=question, run_id=run_id)
    if run is None:
        raise HTTPException(404, "There is no such run of this question's examples.")
    return _render_run(request, db, question, run)


def _render_run(request: Request, db: SessionDep, question: Question, run: ExampleRun) -> Response:
    context = {"question": question, "run": run, "grading_available": grading_available_for(db, kind="code"),
               "poll_ms": poll_delay_ms((utcnow() - run.created_at).total_seconds())}
    return render(request, "questions/run.html", context, block="run")
