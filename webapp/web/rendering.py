"""One Jinja environment for the whole app, and the full-page-or-fragment render helper."""

from __future__ import annotations

import secrets
from typing import Any

from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from webapp.core.config import PROJECT_ROOT
from webapp.core.db import utcnow
from webapp.core.markup import code_block, highlight_code, render_markdown, render_markdown_inline
from webapp.review.presenting import comments_by_line, highlighted_lines
from webapp.submissions.presenting import highlight_evidence
from webapp.submissions.visibility import shown_to
from webapp.web.csrf import csrf_token
from webapp.web.formatting import FILTERS


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


def _page_context(request: Request) -> dict[str, Any]:
    return {
        "new_reviews": getattr(request.state, "new_reviews", 0),  # loaded with the user (web/deps.py)
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
    app has the same routes.)"""
    templates.env.globals["path_for"] = app.url_path_for
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
    response = templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=headers,
        block_name=block if partial else None,
    )
    response.headers.append("Vary", "HX-Request")
    return response
