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

from fastapi import APIRouter, Depends

from webapp.web import (
    accounts,
    assessments,
    example_runs,
    health,
    home,
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

public = APIRouter(dependencies=[Depends(get_optional_user)])  # pages still show who is signed in
for pages in (home, accounts, password_reset, questions):
    public.include_router(pages.router)

signed_in = APIRouter(dependencies=[Depends(get_current_user)])
for pages in (own_account, practice, submissions, example_runs, assessments):
    signed_in.include_router(pages.router)

staff = APIRouter(dependencies=[Depends(require_staff)])
for pages in (review, staff_assessments, staff_progress):
    staff.include_router(pages.router)

router = APIRouter()
router.include_router(health.router)  # probes: no session, no database read for a user
for group in (public, signed_in, staff):
    router.include_router(group)
