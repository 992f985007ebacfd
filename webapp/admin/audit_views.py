"""/admin/audit: the audit log, filterable by actor, action and date."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from webapp.audit.queries import AuditFilters, list_events
from webapp.web.deps import AdminUser, SessionDep
from webapp.web.rendering import render

router = APIRouter(prefix="/admin/audit")


@router.get("")
def audit_log(request: Request, db: SessionDep, admin: AdminUser,
              filters: Annotated[AuditFilters, Query()]) -> Response:
    # The days of the dates typed are those of the zone the page shows times in (the admin's choice).
    page = list_events(db, filters=filters, time_zone=admin.time_zone)
    context = {"page": page, "filters": filters, "zone": admin.time_zone or "UTC"}
    return render(request, "admin/audit.html", context, block="results")
