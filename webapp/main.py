"""The application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware

from webapp.admin import routes as admin_routes
from webapp.assembly import grading_service
from webapp.core.config import PROJECT_ROOT, Settings, get_settings
from webapp.core.db import Database
from webapp.grading.sandbox import sandbox_status
from webapp.identity.passwords import make_hasher
from webapp.integrity.signals import MAX_BODY_BYTES as SIGNALS_MAX_BODY_BYTES
from webapp.interviews.live.hub import Hub
from webapp.mail.sweeper import OutboxSweeper
from webapp.questions.bank import MAX_FILE_BYTES
from webapp.web import routes as site_routes
from webapp.web.admission import AdmissionLimitMiddleware
from webapp.web.body_limit import BodySizeLimitMiddleware
from webapp.web.csrf import verify_csrf
from webapp.web.deps import smtp_server
from webapp.web.errors import install_error_handlers
from webapp.web.headers import SecurityHeadersMiddleware
from webapp.web.input_guard import InputGuardMiddleware
from webapp.web.rendering import templates, use_routes_of
from webapp.web.static_files import SiteStaticFiles

log = logging.getLogger("rehearse")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.sandbox_warning:
            log.warning("!" * 72)
            log.warning("CANDIDATE CODE IS NOT ISOLATED: %s", app.state.sandbox_warning)
            log.warning("Install bubblewrap (apt-get install bubblewrap) and set REHEARSE_SANDBOX=bwrap.")
            log.warning("!" * 72)
        # Long-lived start-up objects (routes, templates, ORM mappers) go to a permanent
        # generation, so full collections stop walking them: measured p99 spikes of 40-110 ms.
        gc.collect()
        gc.freeze()
        app.state.grader.start()
        app.state.outbox_sweeper.start()  # retries of refused email, in every web process
        await app.state.interview_hub.start()  # live interview rooms, and their relay on PostgreSQL
        yield
        await app.state.interview_hub.stop()
        app.state.outbox_sweeper.stop()
        app.state.grader.stop()
        app.state.db.dispose()

    app = FastAPI(
        title="Rehearse",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None if settings.env == "production" else "/openapi.json",
        # CSRF is checked for every state-changing request, on every route, by default.
        dependencies=[Depends(verify_csrf)],
    )
    app.state.settings = settings
    app.state.db = Database(settings.resolved_database_url, pool_size=settings.database_pool_size)
    app.state.grader = grading_service(settings, app.state.db)
    app.state.interview_hub = Hub(app.state.db)
    app.state.outbox_sweeper = OutboxSweeper(app.state.db, server=smtp_server(settings),
                                             interval=settings.mail_sweep_seconds)
    app.state.sandbox_mode, app.state.sandbox_warning = sandbox_status(settings.effective_sandbox)
    app.state.hasher = make_hasher(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )

    # Innermost: NUL and invalid UTF-8 are refused before any route (its 400 page sees the session).
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.effective_secret_key,
        session_cookie=settings.session_cookie_name,
        max_age=int(timedelta(days=settings.session_absolute_days).total_seconds()),
        same_site="lax",
        https_only=settings.https,
    )
    # Answers and uploads: the upload limit plus room for the other form fields.
    form_slack = 64 * 1024
    app.add_middleware(BodySizeLimitMiddleware, default=settings.max_upload_bytes + form_slack,
                       limits={"/admin/questions/import": MAX_FILE_BYTES + form_slack},
                       suffix_limits={"/signals": SIGNALS_MAX_BODY_BYTES})
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    # Outermost: a request waiting for admission holds nothing yet.
    app.add_middleware(AdmissionLimitMiddleware, limit=settings.max_concurrent_requests)
    install_error_handlers(app)

    app.mount("/static", SiteStaticFiles(directory=PROJECT_ROOT / "static"), name="static")
    site_routes.include_site_routes(app)
    app.include_router(admin_routes.router)
    use_routes_of(app)
    # Templates are compiled once per process either way; outside development a fetched template
    # is not checked against its file on every use (a stat per template and include, per page).
    templates.env.auto_reload = settings.env == "development"
    return app
