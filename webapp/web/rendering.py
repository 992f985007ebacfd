"""One Jinja environment for the whole app, and the full-page-or-fragment render helper."""

from __future__ import annotations

import secrets
from typing import Any

from jinja2_fragments.fastapi import Jinja2Blocks
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from webapp.core.config import PROJECT_ROOT
from webapp.core.db import utcnow
from webapp.core.markup import code_block, highlight_code, render_markdown, render_markdown_inline
from webapp.identity.models import Role
from webapp.review.presenting import comments_by_line, highlighted_lines
from webapp.review.service import unseen_reviews
from webapp.submissions.presenting import highlight_evidence
from webapp.submissions.visibility import shown_to
from webapp.web.csrf import csrf_token
from webapp.web.formatting import FILTERS
from webapp.web.route_paths import RoutePaths


def is_partial(request: Request) -> bool:
    """True for an htmx request that swaps a region (not history restore, not a boosted page)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-history-restore-request") != "true"
        and headers.get("hx-boosted") != "true"
    )


def flash(request: Request, message: str, category: str = "info") -> None:
    request.session.setdefault("_flashes", []).append([category, message])
    request.session["_flashes"] = request.session["_flashes"]  # mark modified


def new_reviews(request: Request) -> int:
    """The navigation's "new reviews" badge for a candidate, read in the request's own session
    (a second connection per page deadlocked the pool under load) and only for a whole page:
    fragments, redirects and error pages (whose session is gone) have no navigation to show it in."""
    user = getattr(request.state, "user", None)
    db: Session | None = getattr(request.state, "db", None)
    if user is None or user.role != Role.candidate or db is None:
        return 0
    return unseen_reviews(db, user=user)


def _page_context(request: Request) -> dict[str, Any]:
    return {
        # What the signed-in viewer sees of a submission's grade (submissions/visibility.py).
        "feedback_for": lambda submission: shown_to(getattr(request.state, "user", None), submission, now=utcnow()),
        "current_user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        # A fresh one-time token for an answer form: sent twice unchanged, it makes one submission.
        "form_token": secrets.token_urlsafe(16),
        "settings": request.app.state.settings,
        "sandbox_warning": getattr(request.app.state, "sandbox_warning", None),
    }


templates = Jinja2Blocks(directory=PROJECT_ROOT / "templates", context_processors=[_page_context])
templates.env.globals["app_name"] = "Rehearse"


def use_routes_of(app: Starlette) -> None:
    """Templates build links from route names: ``path_for('submission_detail', submission_id=1)``.
    (A global, not a context value, so macros imported without context can use it too; every
    app has the same routes.) Resolved from a table of the routes by name (web/route_paths.py)."""
    paths = RoutePaths(app)
    app.state.path_for = paths
    templates.env.globals["path_for"] = paths
templates.env.filters.update(markdown=render_markdown, markdown_inline=render_markdown_inline, highlight=highlight_code,
                             code_block=code_block,
                             evidence=highlight_evidence, code_lines=highlighted_lines, groupby_line=comments_by_line,
                             **FILTERS)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render ``name``; for an htmx request and a given ``block``, only that block."""
    ctx = dict(context or {})
    partial = block is not None and is_partial(request)
    if not partial:
        ctx["flashes"] = request.session.pop("_flashes", [])
        if "new_reviews" not in ctx:
            ctx["new_reviews"] = new_reviews(request)
    response = templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=headers,
        block_name=block if partial else None,
    )
    response.headers.append("Vary", "HX-Request")
    return response
