"""Register, log in, log out and change password through HTTP."""

from __future__ import annotations

import re

from argon2 import Type, extract_parameters
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import csrf_token, login, logout, post_form, register
from webapp.core.db import session_scope
from webapp.identity.models import Role, User


def _user(app, email: str) -> User:
    with session_scope(app.state.db.read_session) as db:
        return db.scalar(select(User).where(User.email == email))
    raise AssertionError("unreachable")


def test_register_signs_in_as_candidate(client, app):
    response = register(client, "Ada@Example.COM", PASSWORD)
    assert response.status_code == 303
    assert client.get("/").text.count("Welcome back, Ada") == 1
    user = _user(app, "ada@example.com")
    assert user.role == Role.candidate and user.is_active


def test_password_hash_is_argon2id_with_owasp_parameters(client, app):
    register(client, "ada@example.com", PASSWORD)
    params = extract_parameters(_user(app, "ada@example.com").password_hash)
    assert params.type is Type.ID
    assert params.memory_cost >= 19456 and params.time_cost >= 2 and params.parallelism >= 1


def test_email_is_case_insensitive_and_unique(client):
    assert register(client, "ada@example.com", PASSWORD).status_code == 303
    logout(client)
    response = register(client, "ADA@example.com", PASSWORD)
    assert response.status_code == 422
    assert "already exists" in response.text
    login(client, "ADA@EXAMPLE.com", PASSWORD)


def test_register_field_errors_rerender_the_form(client):
    response = register(client, "not-an-email", "short", display_name="")
    assert response.status_code == 422
    html = response.text
    assert 'id="email-error"' in html and "aria-invalid=\"true\"" in html
    assert "at least 8 characters" in html
    assert "Tell us what to call you" in html
    assert 'value="not-an-email"' in html  # the user's input is kept
    assert "short" not in html.split('id="password"')[1].split(">")[0]  # passwords are never echoed


def test_common_password_is_refused_with_a_clear_message(client):
    response = register(client, "ada@example.com", "password1")
    assert response.status_code == 422
    assert "most common passwords" in response.text


def test_long_passwords_are_accepted_and_not_truncated(client):
    long_password = "x" * 72 + "-the tail matters-" + "y" * 30
    assert register(client, "ada@example.com", long_password).status_code == 303
    logout(client)
    wrong_tail = "x" * 72 + "-another tail-----" + "y" * 30
    response = post_form(client, "/login", {"email": "ada@example.com", "password": wrong_tail})
    assert response.status_code == 422
    login(client, "ada@example.com", long_password)


def test_inline_validation_returns_only_the_field_error(client, make_user):
    make_user(email="taken@example.com")
    token = csrf_token(client, "/register")
    response = client.post("/register/validate?field=email", data={"email": "taken@example.com", "csrf_token": token})
    assert response.status_code == 200
    assert response.text.strip().startswith('<small id="email-error"')
    assert "already exists" in response.text
    ok = client.post("/register/validate?field=email", data={"email": "new@example.com", "csrf_token": token})
    assert "already exists" not in ok.text


def test_login_and_logout(client, make_user):
    user = make_user()
    login(client, user.email, PASSWORD)
    assert user.display_name in client.get("/").text
    assert logout(client).headers["location"] == "/login"
    assert user.display_name not in client.get("/").text


def test_login_message_is_the_same_for_unknown_email_and_wrong_password(client, make_user):
    user = make_user()
    unknown = post_form(client, "/login", {"email": "nobody@example.com", "password": PASSWORD})
    wrong = post_form(client, "/login", {"email": user.email, "password": "wrong password!"})
    assert unknown.status_code == wrong.status_code == 422
    def error_of(html: str) -> str:
        return html.split('class="form-error"')[1].split("</p>")[0]

    assert error_of(unknown.text) == error_of(wrong.text)
    assert "Email or password is incorrect." in error_of(wrong.text)


def test_change_password(client, make_user):
    user = make_user()
    login(client, user.email, PASSWORD)
    bad = post_form(client, "/account/password", {"current_password": "nope", "new_password": "short"}, token_page="/")
    assert bad.status_code == 422
    assert "current password is not correct" in bad.text and "at least 8" in bad.text
    ok = post_form(client, "/account/password",
                   {"current_password": PASSWORD, "new_password": "a brand new passphrase"}, token_page="/")
    assert ok.status_code == 303
    assert user.display_name in client.get("/").text  # this browser stays signed in
    logout(client)
    assert post_form(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 422
    login(client, user.email, "a brand new passphrase")


def test_deactivated_user_cannot_log_in(client, make_user, app):
    from webapp.identity.accounts import set_active

    user = make_user()
    with session_scope(app.state.db.write_session) as db:
        set_active(db, user=db.get(User, user.id), active=False, actor=None)
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 422
    assert "Email or password is incorrect." in response.text


def test_htmx_form_errors_render_only_the_form(client, make_user):
    user = make_user()
    htmx = {"HX-Request": "true"}
    login_failed = post_form(client, "/login", {"email": user.email, "password": "nope nope"}, headers=htmx)
    assert login_failed.status_code == 422
    assert login_failed.text.lstrip().startswith('<form id="login-form"')
    assert "Email or password is incorrect." in login_failed.text
    register_failed = post_form(client, "/register", {"email": "x", "password": "", "display_name": ""},
                                token_page="/register", headers=htmx)
    assert register_failed.status_code == 422
    assert register_failed.text.lstrip().startswith('<form id="register-form"')
    ok = post_form(client, "/login", {"email": user.email, "password": PASSWORD}, headers=htmx)
    assert ok.status_code == 200 and ok.headers["hx-redirect"] == "/"


def test_signing_up_from_a_question_comes_back_to_it(client, bank):
    slug = bank.questions[0].slug
    form = client.get(f"/register?next=/questions/{slug}").text
    assert f'name="next" value="/questions/{slug}"' in form
    created = post_form(client, "/register", {"email": "new@example.com", "display_name": "New", "password": PASSWORD,
                                              "next": f"/questions/{slug}"}, token_page="/register")
    assert created.status_code == 303 and created.headers["location"] == f"/questions/{slug}"
    assert 'id="answer-form"' in client.get(f"/questions/{slug}").text  # now signed in: the form is there
    foreign = post_form(client, "/logout", {}, token_page="/")
    assert foreign.status_code == 303
    elsewhere = post_form(client, "/register", {"email": "other@example.com", "display_name": "O", "password": PASSWORD,
                                                "next": "https://evil.example/"}, token_page="/register")
    assert elsewhere.headers["location"] == "/"  # never another site


def test_a_chosen_time_zone_is_kept_and_an_unknown_one_refused(client, make_user):
    user = make_user()
    login(client, user.email, PASSWORD)
    page = client.get("/account/time-zone").text
    assert '<option value="Asia/Tokyo"' in page and "My browser’s time zone" in page
    saved = post_form(client, "/account/time-zone", {"time_zone": "Asia/Tokyo"}, token_page="/account/time-zone")
    assert saved.status_code == 303
    assert 'data-time-zone="Asia/Tokyo"' in client.get("/").text  # every page tells app.js
    refused = post_form(client, "/account/time-zone", {"time_zone": "Mars/Olympus"}, token_page="/account/time-zone")
    assert refused.status_code == 422 and "Choose a time zone from the list." in refused.text
    post_form(client, "/account/time-zone", {"time_zone": ""}, token_page="/account/time-zone")
    assert "data-time-zone" not in client.get("/").text  # back to the browser's own


def test_visitors_get_a_landing_page_that_shows_the_product(client) -> None:
    page = client.get("/").text
    assert "Browse the questions" in page and 'href="/questions"' in page and 'href="/register"' in page
    pictures = re.findall(r'<img src="(/static/screenshots/[a-z-]+\.png)" alt="([^"]+)"', page)
    assert len(pictures) == 5 and all(alt for _, alt in pictures)
    for src, _ in pictures:
        served = client.get(src)
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
