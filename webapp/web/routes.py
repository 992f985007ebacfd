"""The site's pages outside /admin, in the order their paths are matched. Each router's own
guard says who may use it: public pages and log-in (health, accounts, questions), candidates
(practice, submissions, assessments taken), staff (review and staff_assessments: a guard on the
router). The candidates' assessment routes come before the staff ones: /assessments/join must
match before /assessments/{assessment_id}."""

from __future__ import annotations

from fastapi import APIRouter

from webapp.web import accounts, assessments, health, practice, questions, review, staff_assessments, submissions

router = APIRouter()
for pages in (health, practice, accounts, questions, submissions, review, assessments, staff_assessments):
    router.include_router(pages.router)
