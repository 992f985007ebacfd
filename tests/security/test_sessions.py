"""Session lifetime: rotation, replay, revocation and timeouts."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from tests.conftest import PASSWORD
from tests.helpers import login, logout, post_form
from webapp.core.db import session_scope, utcnow
from webapp.identity.accounts import set_active, set_role
from webapp.identity.models import Role, User


def _signed_in(client, user) -> bool:
    return f"Welcome back, {user.display_name}" in client.get("/").text


def _cookie(client, app) -> str:
    return client.cookies.get(app.state.settings.session_cookie_name)


def _update(app, user_id, change):
    with session_scope(app.state.db.write_session) as db:
        change(db, db.get(User, user_id))


def test_session_rotates_on_login(client, make_user, app):
    user = make_user()
    client.get("/login")
    anonymous_cookie = _cookie(client, app)
    anonymous_token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    login(client, user.email, PASSWORD)
    assert _cookie(client, app) != anonymous_cookie
    new_token = client.get("/").text.split('name="csrf_token" value="')[1].split('"')[0]
    assert new_token != anonymous_token  # the pre-login token is worthless now


def test_cookie_replayed_after_logout_does_not_authenticate(client, make_user, make_client, app):
    user = make_user()
    login(client, user.email, PASSWORD)
    captured = _cookie(client, app)
    logout(client)
    attacker = make_client()
    attacker.cookies.set(app.state.settings.session_cookie_name, captured)
    assert not _signed_in(attacker, user)
    assert attacker.get("/admin", follow_redirects=False).status_code == 303


def test_password_change_logs_out_other_browsers(client, make_user, make_client):
    user = make_user()
    other = make_client()
    login(client, user.email, PASSWORD)
    login(other, user.email, PASSWORD)
    assert _signed_in(other, user)
    post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": "another fine passphrase"},
              token_page="/")
    assert _signed_in(client, user)
    assert not _signed_in(other, user)


def test_logout_everywhere(client, make_user, make_client):
    user = make_user()
    other = make_client()
    login(client, user.email, PASSWORD)
    login(other, user.email, PASSWORD)
    response = post_form(client, "/account/logout-everywhere", {}, token_page="/")
    assert response.status_code == 303
    assert not _signed_in(client, user) and not _signed_in(other, user)


def test_logout_of_one_browser_keeps_the_other(client, make_user, make_client):
    user = make_user()
    other = make_client()
    login(client, user.email, PASSWORD)
    login(other, user.email, PASSWORD)
    logout(client)
    assert _signed_in(other, user)


def test_deactivation_logs_the_user_out(client, make_user, app):
    user = make_user()
    login(client, user.email, PASSWORD)
    _update(app, user.id, lambda db, u: set_active(db, user=u, active=False, actor=None))
    assert not _signed_in(client, user)


def test_role_change_revokes_sessions(client, make_user, app):
    user = make_user()
    login(client, user.email, PASSWORD)
    _update(app, user.id, lambda db, u: set_role(db, user=u, role=Role.admin, actor=None))
    assert not _signed_in(client, user)
    login(client, user.email, PASSWORD)
    assert client.get("/admin").status_code == 200


def test_idle_timeout(client, make_user, app):
    user = make_user()
    idle = app.state.settings.session_idle_minutes
    with time_machine.travel(utcnow(), tick=False) as clock:
        login(client, user.email, PASSWORD)
        clock.shift(timedelta(minutes=idle - 5))
        assert _signed_in(client, user)  # activity refreshes last_seen
        clock.shift(timedelta(minutes=idle - 5))
        assert _signed_in(client, user)
        clock.shift(timedelta(minutes=idle + 1))
        assert not _signed_in(client, user)


def test_absolute_timeout_even_when_active(client, make_user, app):
    user = make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        login(client, user.email, PASSWORD)
        for _ in range(7 * 4):  # active every 6 hours for a week
            clock.shift(timedelta(hours=6))
            if not _signed_in(client, user):
                break
        else:
            raise AssertionError("session outlived the absolute timeout")
        clock.shift(timedelta(hours=-6))


def test_tampered_cookie_is_anonymous_not_an_error(client, make_user, app):
    user = make_user()
    login(client, user.email, PASSWORD)
    value = _cookie(client, app)
    payload, rest = value.split(".", 1)
    client.cookies.clear()
    client.cookies.set(app.state.settings.session_cookie_name, payload[:-4] + "AAAA." + rest)
    response = client.get("/")
    assert response.status_code == 200
    assert not _signed_in(client, user)
    client.cookies.clear()
    client.cookies.set(app.state.settings.session_cookie_name, "garbage!!")
    assert client.get("/account/password", follow_redirects=False).status_code == 303


def test_cookie_flags(client, make_user, app):
    user = make_user()
    response = login(client, user.email, PASSWORD)
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
