"""Admin pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from webapp.identity.overview import admin_overview
from webapp.web.deps import SessionDep
from webapp.web.rendering import render

router = APIRouter(prefix="/admin")


@router.get("")
def overview(request: Request, db: SessionDep) -> Response:
    return render(request, "admin/overview.html", {"overview": admin_overview(db)})
