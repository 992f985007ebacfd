"""Log-in throttling per account and per client address."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from tests.conftest import PASSWORD
from tests.helpers import post_form
from webapp.db import utcnow


def _fail(client, email):  # type: ignore[no-untyped-def]
    return post_form(client, "/login", {"email": email, "password": "wrong password"})


def test_ten_failures_lock_the_account_with_retry_after(client, make_user, make_client):  # type: ignore[no-untyped-def]
    user = make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(10):
            assert _fail(client, user.email).status_code == 422
        locked = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
        assert "Too many failed log-in attempts" in locked.text
        clock.shift(timedelta(minutes=16))
        assert post_form(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 303


def test_failures_across_many_accounts_throttle_the_client(client, make_user):  # type: ignore[no-untyped-def]
    for number in range(10):
        assert _fail(client, f"guess{number}@example.com").status_code == 422
    user = make_user()
    assert post_form(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 429


def test_unknown_accounts_are_throttled_like_real_ones(client):  # type: ignore[no-untyped-def]
    for _ in range(10):
        _fail(client, "ghost@example.com")
    assert _fail(client, "ghost@example.com").status_code == 429
