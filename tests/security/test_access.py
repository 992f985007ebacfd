"""Role guards, safe redirects, headers and error pages."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.identity.models import Role


def test_anonymous_is_redirected_to_login_with_next(client):
    response = client.get("/admin", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin"


def test_htmx_anonymous_gets_hx_redirect(client):
    response = client.get("/admin", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/login?next=/admin"


@pytest.mark.parametrize("role, status", [(Role.candidate, 403), (Role.interviewer, 403), (Role.admin, 200)])
def test_admin_page_by_role(client, make_user, role, status):
    user = make_user(role)
    login(client, user.email, PASSWORD)
    response = client.get("/admin")
    assert response.status_code == status
    if status == 403:
        assert "You do not have permission" in response.text


def test_next_is_honoured_for_local_paths_only(client, make_user):
    user = make_user()
    for hostile in ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "http:/x"]:
        response = post_form(client, "/login", {"email": user.email, "password": PASSWORD, "next": hostile})
        assert response.headers["location"] == "/", hostile
        post_form(client, "/logout", {}, token_page="/")
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD, "next": "/account/password"})
    assert response.headers["location"] == "/account/password"


def test_login_page_carries_next_safely(client):
    html = client.get("/login", params={"next": "https://evil.example"}).text
    assert 'name="next" value="/"' in html


@pytest.mark.parametrize("path", ["/", "/login", "/healthz", "/does-not-exist", "/static/css/app.css"])
def test_security_headers_everywhere(client, path):
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"]


def test_pages_have_no_inline_scripts_or_handlers(client):
    import re

    for path in ["/", "/login", "/register"]:
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+=", html), path


def test_htmx_partial_and_vary(client):
    full = client.get("/login")
    assert "HX-Request" in full.headers["vary"]
    assert "<html" in full.text


def test_404_page_and_htmx_fragment(client):
    page = client.get("/nowhere")
    assert page.status_code == 404 and "<html" in page.text and "There is nothing here" in page.text
    fragment = client.get("/nowhere", headers={"HX-Request": "true"})
    assert fragment.status_code == 404 and "<html" not in fragment.text
    assert "There is nothing here" in fragment.text


def test_500_shows_no_traceback(app, make_client):
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    app.include_router(router)
    from starlette.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert "Something went wrong" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_validation_error_page_is_422(client):
    response = client.get("/login", params={"next": ["a", "b"]})
    assert response.status_code in (200, 422)  # repeated query is tolerated, never a 500
