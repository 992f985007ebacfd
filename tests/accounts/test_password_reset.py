"""Password reset by email, through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.helpers import login, post_form, wait_for
from webapp.core.db import utcnow
from webapp.identity.models import Role

NEW_PASSWORD = "a brand new passphrase 42"


def _link(message) -> str:
    return re.search(r"http://testserver(/password/reset/\S+)", message.get_payload(decode=True).decode()).group(1)


def test_a_reset_link_arrives_works_once_and_ends_every_session(mailing_app, inbox, make_user) -> None:
    handler, _ = inbox
    user = make_user(email="ada@example.com")
    with TestClient(mailing_app) as browser, TestClient(mailing_app) as other_device:
        login(other_device, user.email, PASSWORD)
        unknown = post_form(browser, "/password/forgot", {"email": "nobody@example.com"}, token_page="/password/forgot")
        known = post_form(browser, "/password/forgot", {"email": "ADA@example.com"}, token_page="/password/forgot")
        assert unknown.status_code == known.status_code == 200 and unknown.text == known.text  # tells nothing
        wait_for(lambda: handler.messages, timeout=10, message="the reset email")
        assert len(handler.messages) == 1 and handler.messages[0]["To"] == "ada@example.com"
        link = _link(handler.messages[0])
        assert "Choose a new password" in browser.get(link).text
        weak = post_form(browser, link, {"new_password": "short"}, token_page=link)
        assert weak.status_code == 422
        done = post_form(browser, link, {"new_password": NEW_PASSWORD}, token_page=link)
        assert done.status_code == 303 and done.headers["location"] == "/login"
        assert other_device.get("/progress", follow_redirects=False).status_code == 303  # logged out there too
        again = browser.get(link)
        assert again.status_code == 404 and "expired or was already used" in again.text
        assert post_form(browser, "/login", {"email": user.email, "password": PASSWORD}).status_code != 303
        login(browser, user.email, NEW_PASSWORD)


def test_a_link_expires_after_an_hour(mailing_app, inbox, make_user) -> None:
    handler, _ = inbox
    make_user(email="ada@example.com")
    with TestClient(mailing_app) as browser:
        post_form(browser, "/password/forgot", {"email": "ada@example.com"}, token_page="/password/forgot")
        link = _link(wait_for(lambda: handler.messages, timeout=10, message="the reset email")[0])
        with time_machine.travel(utcnow() + timedelta(minutes=61)):
            assert browser.get(link).status_code == 404
        forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
        assert browser.get(forged).status_code == 404


def test_requests_are_limited_per_address(mailing_app, make_user) -> None:
    with TestClient(mailing_app) as browser:
        statuses = [post_form(browser, "/password/forgot", {"email": f"x{n}@example.com"},
                              token_page="/password/forgot").status_code for n in range(6)]
        assert statuses == [200] * 5 + [429]


def test_without_smtp_the_message_is_logged_and_on_the_outbox_page(app, make_user, make_client) -> None:
    make_user(email="ada@example.com")
    visitor = make_client()
    post_form(visitor, "/password/forgot", {"email": "ada@example.com"}, token_page="/password/forgot")
    admin = make_client()
    login(admin, make_user(Role.admin, email="root@example.com").email, PASSWORD)
    page = admin.get("/admin/outbox").text
    assert "ada@example.com" in page and "/password/reset/" in page and "logged" in page
