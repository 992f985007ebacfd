"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from webapp import health
from webapp.accounts import views as account_views
from webapp.admin import views as admin_views
from webapp.questions import admin_views as question_admin_views
from webapp.questions import views as question_views
from webapp.config import PROJECT_ROOT, Settings, get_settings
from webapp.db import Database
from webapp.errors import install_error_handlers
from webapp.security.csrf import verify_csrf
from webapp.security.headers import SecurityHeadersMiddleware
from webapp.security.passwords import make_hasher

log = logging.getLogger("rehearse")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
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
    app.state.db = Database(settings.resolved_database_url)
    app.state.hasher = make_hasher(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.effective_secret_key,
        session_cookie=settings.session_cookie_name,
        max_age=int(timedelta(days=settings.session_absolute_days).total_seconds()),
        same_site="lax",
        https_only=settings.https,
    )
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    install_error_handlers(app)

    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")
    app.include_router(health.router)
    app.include_router(account_views.router)
    app.include_router(admin_views.router)
    app.include_router(question_admin_views.router)
    app.include_router(question_views.router)
    return app
