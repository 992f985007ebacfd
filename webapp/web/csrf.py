"""CSRF protection: a synchronizer token in the session plus an Origin/Referer check."""

from __future__ import annotations

import hmac
import secrets
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
HEADER_NAME = "x-csrf-token"
FIELD_NAME = "csrf_token"


class CSRFError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def csrf_token(request: Request) -> str:
    """The session's token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@lru_cache(maxsize=8)
def origins_of(public_origin: str) -> frozenset[str]:
    """The origins a form may be posted from: REHEARSE_PUBLIC_URL's, and when that is a loopback
    address, the same port under the other loopback names (``make run`` is opened as localhost
    or 127.0.0.1 alike). Never the request's own Host header: a client chooses that."""
    parts = urlsplit(public_origin)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return frozenset({public_origin})
    port = f":{parts.port}" if parts.port else ""
    return frozenset({public_origin} | {f"{parts.scheme}://{name}{port}" for name in _LOOPBACK_NAMES})


def trusted_origins(request: Request) -> frozenset[str]:
    return origins_of(request.app.state.settings.public_origin)


async def verify_csrf(connection: HTTPConnection) -> None:
    """Reject a state-changing request that lacks a valid token or comes from another site.
    (A WebSocket has no method or body to carry a token: web/interview_socket.py checks its
    Origin before accepting it.)"""
    if connection.scope["type"] != "http":
        return
    request = cast(Request, connection)
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin") or ""
    if origin and origin != "null":
        if origin.lower() not in trusted_origins(request):
            raise CSRFError("The request came from another site.")
    elif referer := request.headers.get("referer"):
        if _origin_of(referer) not in trusted_origins(request):
            raise CSRFError("The request came from another site.")
    elif origin == "null":
        raise CSRFError("The request came from an opaque origin.")
    sent = request.headers.get(HEADER_NAME)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(FIELD_NAME)
            sent = value if isinstance(value, str) else None
    expected = request.session.get("csrf")
    if not (isinstance(sent, str) and isinstance(expected, str)):
        raise CSRFError("The form has expired or is missing its security token.")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CSRFError("The form's security token does not match this session.")
