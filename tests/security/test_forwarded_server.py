"""The real `rehearse serve` (uvicorn): X-Forwarded-For from 127.0.0.1 is ignored by default (uvicorn
alone would believe it), and believed once 127.0.0.1 is a trusted proxy."""

from __future__ import annotations

import httpx2 as httpx
import pytest
from sqlalchemy import select

from tests.grading.processes import free_port, make_site
from tests.helpers import post_form, wait_for
from webapp.identity.models import LoginFailure

pytestmark = pytest.mark.processes
PASSWORD = "a long enough passphrase"


def _healthy(browser: httpx.Client) -> bool:
    try:
        return browser.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False


def _log_in(browser: httpx.Client, email: str, password: str, forwarded: str) -> int:
    return post_form(browser, "/login", {"email": email, "password": password},
                     headers={"X-Forwarded-For": forwarded}).status_code


def test_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path) -> None:
    site = make_site(tmp_path, None, grader_concurrency="0")
    plain, proxied = free_port(), free_port()
    site.start("serve", "--port", str(plain), name="web-plain")
    site.env["REHEARSE_TRUSTED_PROXIES"] = "127.0.0.1"
    site.start("serve", "--port", str(proxied), name="web-proxied")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{plain}", timeout=30) as attacker, \
                httpx.Client(base_url=f"http://127.0.0.1:{proxied}", timeout=30) as proxy:
            wait_for(lambda: _healthy(attacker) and _healthy(proxy), timeout=60, message="both web processes")
            for email in ("ada@example.com", "bob@example.com"):
                with httpx.Client(base_url=f"http://127.0.0.1:{plain}", timeout=30) as newcomer:
                    signed_up = post_form(newcomer, "/register", {"email": email, "display_name": "X",
                                                                  "password": PASSWORD}, token_page="/register")
                    assert signed_up.status_code == 303, signed_up.text[:300]

            # Default: a local client rotating the header is one client, 127.0.0.1.
            for n in range(5):
                assert _log_in(attacker, "ada@example.com", "wrong password", f"198.51.100.{n}") == 422
            assert _log_in(attacker, "ada@example.com", PASSWORD, "198.51.100.99") == 429
            with site.session() as db:
                keys = set(db.scalars(select(LoginFailure.key)))
            assert keys == {"pair:ada@example.com|127.0.0.1", "client:127.0.0.1", "account:ada@example.com"}

            # Trusted proxy: the address it forwards for is the client; others behind it are not held back.
            for _ in range(5):
                assert _log_in(proxy, "bob@example.com", "wrong password", "6.6.6.6, 198.51.100.7") == 422
            assert _log_in(proxy, "bob@example.com", PASSWORD, "198.51.100.7") == 429
            with site.session() as db:
                assert db.scalar(select(LoginFailure.id).where(LoginFailure.key == "client:198.51.100.7"))
            with httpx.Client(base_url=f"http://127.0.0.1:{proxied}", timeout=30) as neighbour:
                assert _log_in(neighbour, "bob@example.com", PASSWORD, "198.51.100.8") == 303
    finally:
        site.stop_all()
