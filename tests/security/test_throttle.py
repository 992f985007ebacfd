"""Log-in throttling: per account and address, per address, per account with back-off, and the
owner's known browsers (device cookies) kept apart from all of it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from argon2 import PasswordHasher
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.helpers import login, logout, post_form
from webapp import cli
from webapp.core.db import session_scope, utcnow
from webapp.identity import throttle
from webapp.identity.models import LoginFailure


@pytest.fixture
def browser_at(app):
    """A new browser (no cookies) whose requests come from ``address``."""
    opened: list[TestClient] = []

    def factory(address: str) -> TestClient:
        browser = TestClient(app, client=(address, 50000))
        browser.__enter__()
        opened.append(browser)
        return browser

    yield factory
    for browser in opened:
        browser.__exit__(None, None, None)


def _fail(client, email, **kwargs):
    return post_form(client, "/login", {"email": email, "password": "wrong password"}, **kwargs)


def _login(client, email, **kwargs):
    return post_form(client, "/login", {"email": email, "password": PASSWORD}, **kwargs)


def test_five_failures_lock_the_account_from_this_address_with_retry_after(browser_at, make_user):
    user = make_user()
    attacker = browser_at("198.51.100.1")
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(5):
            assert _fail(attacker, user.email).status_code == 422
        locked = _login(attacker, user.email)
        assert locked.status_code == 429
        assert 14 * 60 < int(locked.headers["retry-after"]) <= 15 * 60
        assert "Too many failed log-in attempts. Try again in about 15 minutes." in locked.text
        # The lock is this address's: the owner, from another address and a fresh browser, logs in.
        assert _login(browser_at("198.51.100.2"), user.email).status_code == 303
        clock.shift(timedelta(minutes=15, seconds=1))
        assert _login(attacker, user.email).status_code == 303


def test_unknown_email_failures_from_one_address_do_not_block_another(browser_at, make_user):
    user = make_user()
    shared = browser_at("203.0.113.10")
    for number in range(25):
        assert _fail(shared, f"guess{number}@example.com").status_code == 422
    # 25 failures across accounts: that address waits, even with the right password...
    assert _login(shared, user.email).status_code == 429
    # ...but nobody else does.
    assert _login(browser_at("203.0.113.11"), user.email).status_code == 303


def test_ipv6_clients_are_counted_by_their_64_block(browser_at, make_user):
    user = make_user()
    for host in range(1, 6):  # five addresses of one /64: one client
        assert _fail(browser_at(f"2001:db8:1:2::{host}"), user.email).status_code == 422
    assert _login(browser_at("2001:db8:1:2::99"), user.email).status_code == 429
    assert _login(browser_at("2001:db8:1:3::1"), user.email).status_code == 303


def test_guessing_from_many_addresses_backs_off_exponentially(browser_at, make_user):
    user = make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        for n in range(10):  # 10 failures a day from browsers that never logged in: free
            assert _fail(browser_at(f"198.51.100.{n}"), user.email).status_code == 422
        first = _login(browser_at("198.51.100.200"), user.email)
        assert first.status_code == 429 and 0 < int(first.headers["retry-after"]) <= 60
        clock.shift(timedelta(seconds=61))
        assert _fail(browser_at("198.51.100.201"), user.email).status_code == 422
        second = _login(browser_at("198.51.100.202"), user.email)
        assert second.status_code == 429 and 60 < int(second.headers["retry-after"]) <= 120
        clock.shift(timedelta(seconds=121))
        assert _fail(browser_at("198.51.100.203"), user.email).status_code == 422
        third = _login(browser_at("198.51.100.204"), user.email)
        assert third.status_code == 429 and 120 < int(third.headers["retry-after"]) <= 240


def test_the_owner_logs_in_from_a_known_browser_while_an_attacker_hammers(app, browser_at, make_user):
    user = make_user()
    owner = browser_at("192.0.2.7")
    login(owner, user.email, PASSWORD)  # this browser now carries a device cookie for the account
    assert "rehearse_device" in owner.cookies
    logout(owner)
    for n in range(30):  # every address the attacker has, as many as the limits let through
        for _ in range(3):
            _fail(browser_at(f"198.51.100.{n}"), user.email)
    # Any browser that never logged in to the account waits, whatever its address...
    assert _login(browser_at("192.0.2.8"), user.email).status_code == 429
    # ...the owner's does not, even from the address of one of the attacker's.
    assert _login(owner, user.email).status_code == 303
    logout(owner)
    owner_elsewhere = TestClient(app, client=("198.51.100.1", 50000), cookies=owner.cookies)
    assert _login(owner_elsewhere, user.email).status_code == 303


def test_a_known_browser_has_a_small_budget_of_its_own(browser_at, make_user):
    user = make_user()
    owner = browser_at("192.0.2.7")
    login(owner, user.email, PASSWORD)
    logout(owner)
    for _ in range(5):
        assert _fail(owner, user.email).status_code == 422
    assert _login(owner, user.email).status_code == 429
    # Its failures did not count against the account or the address for other browsers.
    assert _login(browser_at("192.0.2.7"), user.email).status_code == 303


def test_a_forged_or_foreign_device_cookie_counts_for_nothing(app, browser_at, make_user):
    user, other = make_user(), make_user()
    theirs = browser_at("192.0.2.9")
    login(theirs, other.email, PASSWORD)  # a real device cookie, for another account
    for cookie in (theirs.cookies["rehearse_device"], "forged." + "x" * 40):
        browser = TestClient(app, client=("198.51.100.50", 50000), cookies={"rehearse_device": cookie})
        for _ in range(5):
            assert _fail(browser, user.email).status_code == 422
        assert _login(browser, user.email).status_code == 429
        with session_scope(app.state.db.write_session) as db:
            throttle.clear_account(db, email=user.email, user_id=user.id)


def test_unknown_and_known_accounts_are_answered_alike(app, browser_at, make_user):
    hasher = _WatchingHasher(app.state.db.engine)
    app.state.hasher = hasher
    user = make_user()
    answers = {}
    for email, address in ((user.email, "198.51.100.1"), ("ghost@example.com", "198.51.100.2")):
        browser = browser_at(address)
        failures = [_fail(browser, email) for _ in range(5)]
        locked = _login(browser, email)
        answers[email] = ([r.status_code for r in failures], _message(failures[0].text), locked.status_code,
                          _message(locked.text))
    assert answers[user.email] == answers["ghost@example.com"]
    assert answers[user.email][1] == "Email or password is incorrect." and answers[user.email][2] == 429
    # argon2 ran for every attempt the throttle let through, known account or not (the timing says nothing).
    assert hasher.verified == 10


def test_rehearse_unlock_clears_what_holds_an_account_back(settings, browser_at, make_user, monkeypatch, capsys):
    user = make_user()
    for n in range(4):
        for _ in range(5):
            _fail(browser_at(f"198.51.100.{n}"), user.email)
    assert _login(browser_at("198.51.100.0"), user.email).status_code == 429
    monkeypatch.setenv("REHEARSE_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("REHEARSE_DATA_DIR", str(settings.data_dir))
    cli.main(["unlock", "--email", user.email.upper()])
    # Two addresses' five failures each reached the account's ten (the rest were refused unread):
    # ten account rows and ten address-and-account rows; the addresses' own counts stay.
    assert f"{user.email.upper()}: 20 counted log-in failure(s) cleared" in capsys.readouterr().out
    assert _login(browser_at("198.51.100.0"), user.email).status_code == 303


def test_old_failures_are_pruned(app, browser_at, make_user):
    user = make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        _fail(browser_at("198.51.100.1"), "ghost@example.com")
        clock.shift(timedelta(hours=24, seconds=1))
        _fail(browser_at("198.51.100.2"), user.email)
    with session_scope(app.state.db.read_session) as db:
        keys = set(db.scalars(select(LoginFailure.key)))
    assert keys == {f"pair:{user.email}|198.51.100.2", "client:198.51.100.2", f"account:{user.email}"}


def _message(html: str) -> str:
    """The form's error, or the error page's message."""
    if 'class="form-error"' in html:
        return html.split('class="form-error" role="alert">', 1)[1].split("</p>")[0].strip()
    return html.split('<article class="error-page"', 1)[1].split("<p>", 1)[1].split("</p>")[0].strip()


class _WatchingHasher(PasswordHasher):
    """The app's hasher, noting how many database connections are checked out while it works."""

    def __init__(self, engine) -> None:
        super().__init__(memory_cost=19456, time_cost=2, parallelism=1)
        self.engine = engine
        self.checked_out: list[int] = []
        self.verified = 0

    def verify(self, hash, password):
        self.checked_out.append(self.engine.pool.checkedout())
        self.verified += 1
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
    assert codes.count(422) <= 5
    assert codes.count(422) + codes.count(429) == 24
