"""A candidate's progress as interviewers and admins see it (staff pages: guarded in web/routes.py)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from webapp.core.db import utcnow
from webapp.identity.models import User
from webapp.interviews.service import list_about
from webapp.practice.charts import progress_context
from webapp.web.deps import SessionDep, StaffUser
from webapp.web.params import Id
from webapp.web.rendering import render

router = APIRouter()


@router.get("/progress/{user_id}")
def candidate_progress(request: Request, db: SessionDep, staff: StaffUser, user_id: Id) -> Response:
    candidate = db.get(User, user_id)
    if candidate is None:
        raise HTTPException(404, "There is no such user.")
    context = progress_context(db, user=candidate, viewer=staff, now=utcnow())
    # Their live interviews this viewer ran (admins: all), each with its scorecard's recommendation.
    context["interviews"] = list_about(db, candidate=candidate, viewer=staff)
    return render(request, "progress/progress.html", context)
