"""Small HTTP helpers for tests."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of this client's session, read from a rendered form."""
    response = client.get(path)
    match = _TOKEN.search(response.text)
    assert match, f"no csrf token on {path} (status {response.status_code})"
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict[str, str], *, token_page: str = "/login", **kwargs):  # type: ignore[no-untyped-def]
    token = csrf_token(client, token_page)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False, **kwargs)


def login(client: TestClient, email: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    response = post_form(client, "/login", {"email": email, "password": password, **extra})
    assert response.status_code == 303, response.text
    return response


def register(client: TestClient, email: str, password: str, display_name: str = "Ada"):  # type: ignore[no-untyped-def]
    return post_form(client, "/register", {"email": email, "password": password, "display_name": display_name},
                     token_page="/register")


def logout(client: TestClient):  # type: ignore[no-untyped-def]
    return post_form(client, "/logout", {}, token_page="/")
