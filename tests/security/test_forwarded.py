"""The client address: X-Forwarded-For believed only from REHEARSE_TRUSTED_PROXIES, the same way
as uvicorn's ProxyHeadersMiddleware reads it, so log-in throttling counts the real client."""

from __future__ import annotations

import asyncio
import os

import pytest
import uvicorn
from pydantic import ValidationError
from sqlalchemy import select
from starlette.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tests.conftest import PASSWORD
from tests.helpers import post_form
from webapp import cli
from webapp.core.config import Settings
from webapp.core.db import session_scope
from webapp.identity.models import LoginFailure
from webapp.main import create_app
from webapp.web.forwarded import client_address

PROXIES = Settings(trusted_proxies="10.0.0.1, 10.1.0.0/16, ::1").trusted_proxies


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("10.0.0.1", [], "10.0.0.1"),  # a trusted proxy that forwards for nobody
    ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # an untrusted peer's header is never read
    ("10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
    ("10.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # what the client wrote itself is left of it
    ("10.0.0.1", ["6.6.6.6", "198.51.100.1, 10.1.2.3"], "198.51.100.1"),  # two proxies, two header lines
    ("10.0.0.1", ["198.51.100.1:4711"], "198.51.100.1"),
    ("10.0.0.1", ["[2001:db8::7]:4711"], "2001:db8::7"),
    ("::ffff:10.0.0.1", ["198.51.100.1"], "198.51.100.1"),  # a dual-stack socket's spelling of the proxy
    ("::1", ["10.1.0.9, 10.0.0.1"], "10.1.0.9"),  # every hop trusted: the first one
    ("10.0.0.1", ["198.51.100.1, "], "10.0.0.1"),  # an empty hop: no further than the proxy in hand
    ("10.0.0.1", ["not-an-address"], "not-an-address"),  # never a trusted proxy
    (None, ["198.51.100.1"], "unknown"),
])
def test_client_address_walks_back_over_trusted_proxies_only(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"


@pytest.mark.parametrize(("peer", "forwarded"), [
    ("10.0.0.1", "198.51.100.1"), ("10.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3"), ("10.0.0.1", "10.1.0.9, 10.0.0.1"),
    ("10.0.0.1", "198.51.100.1:4711"), ("10.0.0.1", "[2001:db8::7]:80, 10.0.0.1"), ("10.0.0.1", "x, , 10.1.0.1"),
    ("10.0.0.1", "not-an-address"), ("203.0.113.5", "198.51.100.1"), ("::1", "2001:db8::1"),
])
def test_uvicorn_rewriting_the_peer_first_changes_nothing(peer, forwarded):
    # `rehearse serve` hands uvicorn the same list: its middleware replaces the peer before the app
    # reads it. Reading the header again from its answer must give the app's own answer.
    settings = Settings(trusted_proxies="10.0.0.1, 10.1.0.0/16, ::1")
    seen = {}

    async def app(scope, receive, send):
        seen["client"] = scope["client"][0]

    scope = {"type": "http", "client": (peer, 1234), "headers": [(b"x-forwarded-for", forwarded.encode())]}
    asyncio.run(ProxyHeadersMiddleware(app, trusted_hosts=settings.forwarded_allow_ips)(scope, None, None))
    assert client_address(seen["client"], [forwarded], PROXIES) == client_address(peer, [forwarded], PROXIES)


def test_a_malformed_trusted_proxy_is_a_clear_startup_error(monkeypatch):
    with pytest.raises(ValidationError, match="REHEARSE_TRUSTED_PROXIES: '10.0.0.300' is not an IP address"):
        Settings(trusted_proxies="10.0.0.1,10.0.0.300")
    with pytest.raises(ValidationError, match="has host bits set"):
        Settings(trusted_proxies="10.0.0.1/24")
    monkeypatch.setenv("REHEARSE_TRUSTED_PROXIES", "proxy.example.org")
    with pytest.raises(SystemExit, match="(?s)invalid settings.*'proxy.example.org' is not an IP address"):
        cli.main(["serve"])


@pytest.mark.parametrize(("trusted", "proxy_headers", "allow"), [("", False, None), ("10.0.0.1,10.1.0.0/16", True,
                                                                                       "10.0.0.1/32,10.1.0.0/16")])
def test_serve_hands_uvicorn_the_trusted_proxies_only(monkeypatch, trusted, proxy_headers, allow):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("REHEARSE_TRUSTED_PROXIES", trusted)
    monkeypatch.setenv("REHEARSE_PUBLIC_URL", "https://rehearse.example.org")
    cli.main(["serve", "--port", "8123"])
    # uvicorn's own defaults would read the headers from 127.0.0.1 (proxy_headers=True, FORWARDED_ALLOW_IPS).
    assert calls[0]["proxy_headers"] is proxy_headers and calls[0]["forwarded_allow_ips"] == allow


def _fail(browser, email, forwarded):
    return post_form(browser, "/login", {"email": email, "password": "wrong password"},
                     headers={"X-Forwarded-For": forwarded})


def _keys(app) -> set[str]:
    with session_scope(app.state.db.read_session) as db:
        return set(db.scalars(select(LoginFailure.key)))


def test_rotating_forwarded_for_from_an_untrusted_peer_is_still_throttled(app, make_user):
    user = make_user()
    local = TestClient(app, client=("127.0.0.1", 50000))  # uvicorn's default would have trusted this peer
    for n in range(5):
        assert _fail(local, user.email, f"198.51.100.{n}").status_code == 422
    assert _fail(local, user.email, "198.51.100.99").status_code == 429
    assert _keys(app) == {f"pair:{user.email}|127.0.0.1", "client:127.0.0.1", f"account:{user.email}"}


def test_behind_a_trusted_proxy_the_forwarded_address_counts(settings, make_user):
    app = create_app(settings.model_copy(update={"trusted_proxies": PROXIES}))
    try:
        user = make_user()
        proxy = TestClient(app, client=("10.0.0.1", 50000))
        for n in range(5):  # what the client claims (left of what the proxy appended) changes nothing
            assert _fail(proxy, user.email, f"6.6.6.{n}, 198.51.100.7").status_code == 422
        assert _fail(proxy, user.email, "198.51.100.7").status_code == 429
        assert f"pair:{user.email}|198.51.100.7" in _keys(app)
        # Another client behind the same proxy is not held back.
        fresh = TestClient(app, client=("10.0.0.1", 50001))
        answer = post_form(fresh, "/login", {"email": user.email, "password": PASSWORD},
                           headers={"X-Forwarded-For": "198.51.100.8"})
        assert answer.status_code == 303
    finally:
        app.state.db.dispose()


def test_serve_without_a_public_url_uses_its_own_address(monkeypatch):
    # Forms posted to `rehearse serve --port N` pass the CSRF origin check with no further setting.
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    # setenv first, so monkeypatch records the variable's state and unsets it again afterwards
    # (a delenv of an unset variable records nothing, and the value serve sets would leak).
    monkeypatch.setenv("REHEARSE_PUBLIC_URL", "")
    monkeypatch.delenv("REHEARSE_PUBLIC_URL")
    cli.main(["serve", "--port", "8123"])
    assert os.environ["REHEARSE_PUBLIC_URL"] == "http://127.0.0.1:8123"
    monkeypatch.setenv("REHEARSE_PUBLIC_URL", "https://rehearse.example.org")
    cli.main(["serve", "--port", "8123"])
    assert os.environ["REHEARSE_PUBLIC_URL"] == "https://rehearse.example.org"  # a set one is kept
    assert cli.served_url("0.0.0.0", 80) == "http://127.0.0.1:80" and cli.served_url("::1", 8) == "http://[::1]:8"
