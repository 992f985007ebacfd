"""Error pages in the site's look (fragments for htmx), never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TypeVar, cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from webapp.core.db import session_scope
from webapp.core.db_faults import DatabaseFault, database_fault
from webapp.core.errors import Conflict, Forbidden, Invalid, Malformed, NotFound, RateLimited, ServiceError, TooLarge
from webapp.identity.sessions import load_session_user
from webapp.identity.throttle import TooManyAttempts
from webapp.web.csrf import SAFE_METHODS, CSRFError
from webapp.web.deps import LoginRequired, PasswordChangeRequired
from webapp.web.headers import apply_security_headers
from webapp.web.rendering import is_partial, render

E = TypeVar("E", bound=Exception)
log = logging.getLogger("rehearse.errors")

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "There is nothing here. The link may be wrong, or the page was removed.",
    405: "That action is not allowed here.",
    413: "That upload is too large.",
    422: "Some of what you sent was not valid.",
    429: "Too many attempts. Please wait a little and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
}

# The database failing is no bug: the page says what happened, that what was sent was not kept
# (nothing commits before the response), and when to try again (also as Retry-After).
DATABASE_FAULTS: dict[DatabaseFault, tuple[int, str, str, int]] = {
    DatabaseFault.unavailable: (503, "The database is not answering right now (it may be restarting)",
                                "try again in a few seconds", 5),
    DatabaseFault.out_of_space: (507, "The server is out of disk space",
                                 "try again later (this has been logged for the administrators)", 300),
}


def database_fault_message(request: Request, fault: DatabaseFault) -> str:
    _, what, when, _ = DATABASE_FAULTS[fault]
    if request.method in SAFE_METHODS:
        return f"{what}. Please {when}."
    route = request.scope.get("route")
    if getattr(route, "name", "") == "submit":
        return f"{what}, so your answer was not saved. Keep a copy of it and {when}."
    return f"{what}, so what you sent was not saved. Please {when}."


# The one place a service's refusal becomes an HTTP status.
HTTP_STATUS: dict[type[ServiceError], int] = {
    Malformed: 400, Forbidden: 403, NotFound: 404, Conflict: 409, TooLarge: 413, Invalid: 422, RateLimited: 429,
}


def http_status(exc: ServiceError) -> int:
    """The status for a service's refusal (the nearest listed kind; 400 for an unlisted one)."""
    for kind in type(exc).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]
    return 400


def redirect(request: Request, url: str) -> Response:
    """303 for a plain form, HX-Redirect for htmx (which does not follow redirects visibly)."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def redirect_to(request: Request, name: str, *, fragment: str = "", **params: object) -> Response:
    """``redirect`` to a route by its name (``#fragment`` appended when given)."""
    path = str(request.app.state.path_for(name, **params))  # web/route_paths.py
    return redirect(request, f"{path}#{fragment}" if fragment else path)


def _load_user_afresh(request: Request) -> None:
    # The navigation of an error page should still know who is signed in; the request's
    # own database session was rolled back by the error, so look the user up again.
    request.state.user = None
    if "session" not in request.scope or getattr(request.state, "database_failed", False):
        return
    try:
        with session_scope(request.app.state.db.read_session) as db:
            request.state.user = load_session_user(request.session, db, settings=request.app.state.settings)
    except Exception:  # the error page must render even when the database is down
        request.state.user = None


def error_page(request: Request, status: int, message: str | None = None, **headers: str) -> Response:
    if request.url.path.startswith(("/healthz", "/api/")):
        return JSONResponse({"detail": message or MESSAGES.get(status, "")}, status, headers=headers)
    _load_user_afresh(request)
    context = {
        "status": status,
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        "message": message or MESSAGES.get(status, "Something went wrong."),
    }
    response = render(request, "errors/error.html", context, block="content", status_code=status, headers=headers)
    if is_partial(request):
        response.headers["HX-Retarget"] = "#flash-area"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    message = exc.detail if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase else None
    return error_page(request, exc.status_code, message, **(exc.headers or {}))


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = [f"{'.'.join(str(p) for p in err['loc'][1:]) or 'request'}: {err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors()]
    return error_page(request, 422, "Some of what you sent was not valid: " + "; ".join(problems[:5]))


async def _login_required(request: Request, exc: LoginRequired) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(request, f"{request.app.state.path_for('login_form')}?next={quote(target, safe='/')}")


async def _password_change(request: Request, exc: PasswordChangeRequired) -> Response:
    return redirect_to(request, "password_form")


async def _refused(request: Request, exc: ServiceError) -> Response:
    """A refusal no route turned into a form error: an error page with the service's message."""
    status = http_status(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) and exc.retry_after else {}
    return error_page(request, status, None if status == 403 else exc.message, **headers)


async def _csrf(request: Request, exc: CSRFError) -> Response:
    return error_page(request, 403, f"{exc.reason} Reload the page and try again.")


async def _throttled(request: Request, exc: TooManyAttempts) -> Response:
    minutes = max(1, round(exc.retry_after / 60))
    message = f"Too many failed log-in attempts. Try again in about {minutes} minute{'s' if minutes > 1 else ''}."
    return error_page(request, 429, message, **{"Retry-After": str(exc.retry_after)})


async def _database_failed(request: Request, exc: sa_exc.SQLAlchemyError) -> Response:
    fault = database_fault(exc)
    if fault is None:
        raise exc  # an ordinary bug: the 500 page (and its traceback in the log) from _server_error
    status, _, _, retry_after = DATABASE_FAULTS[fault]
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
    log.log(logging.ERROR if fault is DatabaseFault.out_of_space else logging.WARNING,
            "database %s on %s %s: %s", fault.value.replace("_", " "), request.method, request.url.path, reason)
    request.state.database_failed = True  # the page's navigation does not wait for the database again
    return error_page(request, status, database_fault_message(request, fault), **{"Retry-After": str(retry_after)})


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    try:
        response = error_page(request, 500)
    except Exception:  # even the template failed: plain text, still no traceback
        response = Response(MESSAGES[500], status_code=500, media_type="text/plain")
    # This handler runs outside the other middleware, so add their headers here.
    apply_security_headers(MutableHeaders(raw=response.raw_headers), https=request.app.state.settings.https)
    return response


def _on(app: FastAPI, kind: type[E], handle: Callable[[Request, E], Awaitable[Response]]) -> None:
    """Register ``handle`` for ``kind`` (typed: Starlette calls it only with that kind)."""
    async def handler(request: Request, exc: Exception) -> Response:
        return await handle(request, cast(E, exc))

    app.add_exception_handler(kind, handler)


def install_error_handlers(app: FastAPI) -> None:
    _on(app, StarletteHTTPException, _http_error)
    _on(app, RequestValidationError, _validation_error)
    _on(app, LoginRequired, _login_required)
    _on(app, PasswordChangeRequired, _password_change)
    _on(app, ServiceError, _refused)
    _on(app, CSRFError, _csrf)
    _on(app, TooManyAttempts, _throttled)
    _on(app, sa_exc.DBAPIError, _database_failed)
    _on(app, sa_exc.TimeoutError, _database_failed)
    _on(app, Exception, _server_error)
