"""Log-in throttling per account and per client address."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import time_machine
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.helpers import post_form
from webapp.core.db import utcnow


def _fail(client, email):
    return post_form(client, "/login", {"email": email, "password": "wrong password"})


def test_ten_failures_lock_the_account_with_retry_after(client, make_user, make_client):
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


def test_failures_across_many_accounts_throttle_the_client(client, make_user):
    for number in range(10):
        assert _fail(client, f"guess{number}@example.com").status_code == 422
    user = make_user()
    assert post_form(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 429


def test_unknown_accounts_are_throttled_like_real_ones(client):
    for _ in range(10):
        _fail(client, "ghost@example.com")
    assert _fail(client, "ghost@example.com").status_code == 429


class _WatchingHasher(PasswordHasher):
    """The app's hasher, noting how many database connections are checked out while it works."""

    def __init__(self, engine) -> None:
        super().__init__(memory_cost=19456, time_cost=2, parallelism=1)
        self.engine = engine
        self.checked_out: list[int] = []

    def verify(self, hash, password):
        self.checked_out.append(self.engine.pool.checkedout())
        return super().verify(hash, password)

    def hash(self, password, *, salt=None):
        self.checked_out.append(self.engine.pool.checkedout())
        return super().hash(password, salt=salt)


def test_password_hashing_holds_no_transaction(app, client, make_user):
    # On SQLite a POST's transaction is the database's only write lock: a log-in or sign-up
    # hashing inside it would make every other writer wait for argon2id.
    hasher = _WatchingHasher(app.state.db.engine)
    app.state.hasher = hasher
    user = make_user()
    assert post_form(client, "/login", {"email": user.email, "password": "wrong password"}).status_code == 422
    assert post_form(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 303
    other = TestClient(app)
    assert post_form(other, "/register", {"email": "new@example.com", "display_name": "New",
                                          "password": "a long enough passphrase"}).status_code == 303
    assert hasher.checked_out and set(hasher.checked_out) == {0}


def test_a_burst_of_parallel_guesses_learns_no_more_than_the_limit(app, make_user):
    # The hash runs outside the transaction, so parallel guesses overlap; the second count
    # after hashing keeps the answers they get within the limit.
    user = make_user()
    browsers = [TestClient(app) for _ in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda browser: _fail(browser, user.email).status_code, browsers))
    assert codes.count(422) <= 10
    assert codes.count(422) + codes.count(429) == 24
