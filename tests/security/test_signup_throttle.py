"""Sign-up checks that find an existing account are rationed per client address (an enumeration
oracle otherwise); new sign-ups from a shared address never are."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from starlette.testclient import TestClient

from tests.helpers import post_form
from webapp.core.db import utcnow


@pytest.fixture
def browser(app):
    with TestClient(app, client=("198.51.100.20", 50000)) as test_client:
        yield test_client


def _check_email(client, email):
    return post_form(client, "/register/validate?field=email", {"email": email}, token_page="/register",
                     headers={"HX-Request": "true"})


def test_register_validate_is_rate_limited_per_address(app, browser, make_user):
    users = [make_user() for _ in range(10)]
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(20):  # checks of new addresses do not count
            assert _check_email(browser, "someone-new@example.com").status_code == 200
        for user in users:
            found = _check_email(browser, user.email)
            assert found.status_code == 200 and "already exists" in found.text
        refused = _check_email(browser, users[0].email)
        assert refused.status_code == 429
        assert 14 * 60 < int(refused.headers["retry-after"]) <= 15 * 60
        assert "Too many sign-up attempts for existing accounts from your network." in refused.text
        assert "already exists" not in refused.text
        # Nothing reveals an account from this address meanwhile, the full form included.
        assert _check_email(browser, "someone-new@example.com").status_code == 429
        form = post_form(browser, "/register", {"email": users[1].email, "display_name": "X",
                                                "password": "a long enough passphrase"}, token_page="/register")
        assert form.status_code == 429 and "already exists" not in form.text
        # Other addresses are not held back, and this one is free again after the window.
        with TestClient(app, client=("198.51.100.21", 50000)) as elsewhere:
            assert "already exists" in _check_email(elsewhere, users[0].email).text
        clock.shift(timedelta(minutes=15, seconds=1))
        assert "already exists" in _check_email(browser, users[0].email).text


def test_other_fields_are_validated_without_a_lookup_or_a_count(app, browser, make_user):
    user = make_user()
    for _ in range(12):
        answer = post_form(browser, "/register/validate?field=password", {"email": user.email, "password": "short"},
                           token_page="/register")
        assert answer.status_code == 200 and "at least 8" in answer.text and "already exists" not in answer.text
    assert "already exists" in _check_email(browser, user.email).text


def test_posting_the_form_for_existing_accounts_counts_too(browser, make_user):
    users = [make_user() for _ in range(10)]
    for user in users:
        taken = post_form(browser, "/register", {"email": user.email, "display_name": "X",
                                                 "password": "a long enough passphrase"}, token_page="/register")
        assert taken.status_code == 422 and "already exists" in taken.text
    assert _check_email(browser, "someone-new@example.com").status_code == 429
