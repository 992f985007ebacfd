"""CSRF: token and origin are checked on every state-changing request."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.helpers import csrf_token, login
from webapp.web.csrf import origins_of


def test_post_without_token_is_403(client, make_user):
    user = make_user()
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "security token" in response.text
    assert "<nav" in response.text  # a readable page in the site's look


def test_post_with_wrong_token_is_403(client, make_user):
    user = make_user()
    csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


def test_token_from_another_session_is_rejected(client, make_client, make_user):
    user = make_user()
    other_token = csrf_token(make_client())
    csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": other_token})
    assert response.status_code == 403


def test_foreign_origin_is_403_even_with_a_valid_token(client, make_user):
    user = make_user()
    token = csrf_token(client)
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    response = client.post("/login", data=data, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    response = client.post("/login", data=data, headers={"Referer": "https://evil.example/page"})
    assert response.status_code == 403
    ok = client.post("/login", data=data, headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert ok.status_code == 303


def test_the_origin_check_ignores_the_host_header(client, make_user):
    # A forged Host must not make a foreign origin "our own": only REHEARSE_PUBLIC_URL counts.
    user = make_user()
    data = {"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    forged = client.post("/login", data=data, headers={"Origin": "http://evil.example", "Host": "evil.example"})
    assert forged.status_code == 403 and "another site" in forged.text


def test_a_loopback_public_url_accepts_its_other_loopback_names() -> None:
    assert origins_of("http://127.0.0.1:8000") == {"http://127.0.0.1:8000", "http://localhost:8000",
                                                   "http://[::1]:8000"}
    assert origins_of("https://rehearse.example.org") == {"https://rehearse.example.org"}


def test_htmx_request_with_header_token_passes(client, make_user):
    user = make_user()
    login(client, user.email, PASSWORD)
    token = csrf_token(client, "/")
    headers = {"HX-Request": "true", "X-CSRF-Token": token, "Origin": "http://testserver"}
    response = client.post("/register/validate?field=email", data={"email": "x@example.com"}, headers=headers)
    assert response.status_code == 200
    forged = client.post("/register/validate?field=email", data={"email": "x@example.com"},
                         headers={**headers, "X-CSRF-Token": "nope"})
    assert forged.status_code == 403


def test_logout_needs_a_token(client, make_user):
    user = make_user()
    login(client, user.email, PASSWORD)
    assert client.post("/logout").status_code == 403
    assert user.display_name in client.get("/").text
