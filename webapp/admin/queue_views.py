"""/admin/queue: the grading queue's health, failures, requeues and regrades."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from webapp.grading import overview as grading_queue
from webapp.grading import queue
from webapp.questions.models import QuestionRevision
from webapp.web.deps import AdminUser, SessionDep
from webapp.web.errors import redirect_to
from webapp.web.params import Id, OptionalFormId
from webapp.web.rendering import flash, render

router = APIRouter(prefix="/admin/queue")


@router.get("")
def queue_dashboard(request: Request, db: SessionDep) -> Response:
    overview = grading_queue.queue_overview(db)
    return render(request, "admin/queue.html", {"overview": overview}, block="dashboard")


@router.post("/requeue")
def requeue(request: Request, db: SessionDep, admin: AdminUser,
            submission_id: OptionalFormId = None) -> Response:
    count = queue.requeue_failed(db, actor=admin, submission_id=submission_id)
    flash(request, f"{count} submission(s) queued again.", "success")
    return redirect_to(request, "queue_dashboard")


def _revision_or_404(db: SessionDep, revision_id: Id) -> QuestionRevision:
    revision = db.get(QuestionRevision, revision_id)
    if revision is None:
        raise HTTPException(404, "There is no such question revision.")
    return revision


@router.get("/regrade/{revision_id}")
def regrade_confirm(request: Request, db: SessionDep, revision_id: Id) -> Response:
    revision = _revision_or_404(db, revision_id)
    count = grading_queue.regrade_count(db, revision_id=revision.id)
    return render(request, "admin/regrade.html", {"revision": revision, "count": count})


@router.post("/regrade/{revision_id}")
def regrade(request: Request, db: SessionDep, admin: AdminUser, revision_id: Id) -> Response:
    count = queue.regrade_revision(db, revision=_revision_or_404(db, revision_id), actor=admin)
    flash(request, f"{count} submission(s) queued for regrading.", "success")
    return redirect_to(request, "queue_dashboard")
