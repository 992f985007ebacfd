"""Every admin page, behind one guard: a route added here cannot forget it."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from webapp.admin import (
    audit_views,
    calibration_views,
    import_views,
    outbox_views,
    question_views,
    queue_views,
    user_views,
    views,
)
from webapp.web.deps import require_admin

router = APIRouter(dependencies=[Depends(require_admin)])
for pages in (views, user_views, audit_views, outbox_views, queue_views, calibration_views, import_views,
              question_views):
    router.include_router(pages.router)
