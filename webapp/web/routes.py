"""The site's pages outside /admin, grouped by who may use them, each group behind one guard: a
route added to a module of a group cannot forget it. Groups (and routes within them) are matched
in order: the candidates' /assessments/join comes before the staff's /assessments/{assessment_id}.

- health checks: no guard and no user;
- public: the home page, signing up, in and out, reading the question bank;
- signed in (any role): answering, feedback, progress, practice, assessments taken,
  the own account (also while a password change is required: get_current_user allows it);
- staff (interviewers and admins): review, running assessments, candidates' progress.

Admin pages have their own group in webapp/admin/routes.py.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from fastapi import Depends, FastAPI

from webapp.web import (
    accounts,
    assessments,
    example_runs,
    health,
    home,
    interview_room,
    interview_socket,
    interviews,
    own_account,
    password_reset,
    practice,
    questions,
    review,
    staff_assessments,
    staff_progress,
    submissions,
)
from webapp.web.deps import get_current_user, get_optional_user, require_staff

GROUPS: list[tuple[Callable[..., Any], tuple[ModuleType, ...]]] = [
    (get_optional_user, (home, accounts, password_reset, questions)),  # public: pages still show who is signed in
    (get_current_user, (own_account, practice, submissions, example_runs, assessments, interviews,
                        interview_room)),  # signed in
    (require_staff, (review, staff_assessments, staff_progress)),  # staff
]


def include_site_routes(app: FastAPI) -> None:
    """Every module's router straight into the app, with its group's guard, in the groups' order.
    (Not a router of routers: FastAPI matches a request again at every level of included routers,
    and walks each level's subtree to see whether it changed, on every request.)"""
    app.include_router(health.router)  # probes: no session, no database read for a user
    for guard, modules in GROUPS:
        for pages in modules:
            app.include_router(pages.router, dependencies=[Depends(guard)])
    app.include_router(interview_socket.router)  # checks its own session and Origin before accepting
