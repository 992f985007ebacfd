"""/admin/audit: the audit log, filterable by actor, action and date."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from webapp.audit.queries import AuditFilters, list_events
from webapp.web.deps import SessionDep
from webapp.web.rendering import render

router = APIRouter(prefix="/admin/audit")


@router.get("")
def audit_log(request: Request, db: SessionDep,
              filters: Annotated[AuditFilters, Query()]) -> Response:
    page = list_events(db, filters=filters)
    return render(request, "admin/audit.html", {"page": page, "filters": filters}, block="results")
