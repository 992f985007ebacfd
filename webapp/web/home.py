"""The home page: what to do next for a signed-in candidate, a welcome for everyone else."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from webapp.core.db import utcnow
from webapp.identity.models import Role
from webapp.practice import topics as practice
from webapp.practice.charts import progress_context
from webapp.web.deps import OptionalUser, SessionDep
from webapp.web.rendering import render

router = APIRouter()


@router.get("/")
def home(request: Request, db: SessionDep, user: OptionalUser) -> Response:
    context: dict[str, object] = {}
    if user is not None and user.role == Role.candidate:
        now = utcnow()
        context = progress_context(db, user=user, viewer=user, now=now) | {
            "practice": practice.practice_state(db, user=user, now=now)}
    return render(request, "home.html", context)
