"""Admin pages for moving the bank in and out: a staged import's dry run (with its known-solution
checks running on the graders), applying it, and the YAML export."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi.responses import Response

from webapp.core.errors import Conflict, ServiceError
from webapp.grading.wakeup import wake_on_commit
from webapp.grading.worker_presence import grading_available_for
from webapp.questions import staged_imports
from webapp.questions.bank import MAX_FILE_BYTES, dump_yaml
from webapp.questions.importer import export_bank
from webapp.questions.staged_imports import StagedImport
from webapp.web.deps import AdminUser, SessionDep
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import Id
from webapp.web.rendering import flash, render

router = APIRouter(prefix="/admin/questions")
PAGE = "admin/questions/import.html"


def _page(request: Request, db: SessionDep, found: StagedImport | None, *, error: str = "",
          status_code: int = 200) -> Response:
    context = {"found": found, "plan": found.plan if found else None, "staged": found.staged if found else None,
               "checks": found.checks if found else None, "error": error,
               "code_graders": bool(found and found.checks.total) and grading_available_for(db, kind="code")}
    return render(request, PAGE, context, block="plan", status_code=status_code)


@router.get("/import")
def import_form(request: Request, db: SessionDep) -> Response:
    return _page(request, db, None)


@router.post("/import")
def stage_import(request: Request, db: SessionDep, admin: AdminUser, file: Annotated[UploadFile, File()]) -> Response:
    try:
        found = staged_imports.stage_import(db, filename=file.filename or "", content=file.file.read(
            MAX_FILE_BYTES + 1), actor=admin, on_queued=wake_on_commit)
    except ServiceError as exc:
        return _page(request, db, None, error=exc.message, status_code=http_status(exc))
    return _page(request, db, found, status_code=200 if found.plan.ok else 422)


@router.get("/import/{import_id}")
def staged_import(request: Request, db: SessionDep, import_id: Id) -> Response:
    """The dry run as it stands; htmx polls its plan block while the checks run."""
    found = staged_imports.staged_import(db, import_id=import_id)
    return _page(request, db, found, status_code=200 if found.plan.ok else 422)


@router.post("/import/{import_id}/apply")
def apply_import(request: Request, db: SessionDep, admin: AdminUser, import_id: Id) -> Response:
    try:
        plan = staged_imports.apply_staged_import(db, import_id=import_id, actor=admin)
    except Conflict as exc:
        return _page(request, db, staged_imports.staged_import(db, import_id=import_id), error=exc.message,
                     status_code=http_status(exc))
    if plan is None:
        raise HTTPException(404, "This import does not exist or was already applied.")
    if not plan.ok:
        return _page(request, db, staged_imports.staged_import(db, import_id=import_id), status_code=422)
    flash(request, f"Import done: {plan.summary()}.", "success")
    return redirect_to(request, "admin_question_list")


@router.get("/export")
def export(db: SessionDep) -> Response:
    filename = f"rehearse-bank-{date.today().isoformat()}.yaml"
    return Response(dump_yaml(export_bank(db)), media_type="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
