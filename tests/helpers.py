"""Small helpers for tests: posting forms the way a browser does, and waiting with a deadline."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx2 as httpx

T = TypeVar("T")

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: httpx.Client, path: str = "/login") -> str:
    """The CSRF token of this client's session, read from a rendered form."""
    response = client.get(path)
    match = _TOKEN.search(response.text)
    assert match, f"no csrf token on {path} (status {response.status_code})"
    return match.group(1)


def post_form(client: httpx.Client, path: str, data: dict[str, Any] | None = None, *, token_page: str = "/login",
              **kwargs: Any) -> httpx.Response:
    """POST ``data`` to ``path`` with the session's CSRF token (read from ``token_page`` first), without
    following redirects. Extra keyword arguments (``files``, ``headers``, ...) go to ``client.post``."""
    token = csrf_token(client, token_page)
    return client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=False, **kwargs)


def login(client: httpx.Client, email: str, password: str, **extra: str) -> httpx.Response:
    response = post_form(client, "/login", {"email": email, "password": password, **extra})
    assert response.status_code == 303, response.text
    return response


def register(client: httpx.Client, email: str, password: str, display_name: str = "Ada") -> httpx.Response:
    return post_form(client, "/register", {"email": email, "password": password, "display_name": display_name},
                     token_page="/register")


def logout(client: httpx.Client) -> httpx.Response:
    return post_form(client, "/logout", {}, token_page="/")


def wait_for(condition: Callable[[], T], *, timeout: float, message: str, interval: float = 0.05) -> T:
    """Poll ``condition()`` until it returns something truthy, and return that; fail after ``timeout``
    seconds with ``message`` (what was awaited). ``interval`` is the pause between polls (0: just yield)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


# The list pages with a filter form (a method="get" form), as an admin sees them.
ADMIN_PAGES_WITH_FILTERS = ["/questions", "/submissions", "/review", "/admin/users", "/admin/audit",
                            "/admin/questions"]
