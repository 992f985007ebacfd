"""The site's pages outside /admin, in the order their paths are matched. Each router's own
guard says who may use it: public pages and log-in (health, accounts, questions), candidates
(practice, submissions, assessments taken), staff (review: a router-level guard; assessments
run by interviewers: guarded per route)."""

from __future__ import annotations

from fastapi import APIRouter

from webapp.web import accounts, assessments, health, practice, questions, review, submissions

router = APIRouter()
for pages in (health, practice, accounts, questions, submissions, review, assessments):
    router.include_router(pages.router)
