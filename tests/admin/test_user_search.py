"""The admin's user search matches what was typed literally: LIKE's wildcards are escaped."""

from __future__ import annotations

import pytest

from webapp.core.db import session_scope
from webapp.identity.administration import UserFilters, search_users

EMAILS = ["a_b@example.com", "axb@example.com", "50%off@example.com", "50xoff@example.com",
          "slash/me@example.com", "back\\slash@example.com", "plain@example.com"]


@pytest.fixture
def people(make_user):
    for email in EMAILS:
        make_user(email=email)


def _found(app, query: str) -> set[str]:
    with session_scope(app.state.db.read_session) as db:
        page = search_users(db, filters=UserFilters(q=query))
        assert page.total == len(page.items)
        return {u.email for u in page.items}


@pytest.mark.parametrize(("query", "expected"), [
    ("_", {"a_b@example.com"}),
    ("a_b", {"a_b@example.com"}),
    ("%", {"50%off@example.com"}),
    ("50%o", {"50%off@example.com"}),
    ("/", {"slash/me@example.com"}),  # SQLAlchemy's escape character, escaped in its turn
    ("\\", {"back\\slash@example.com"}),
    ("XOFF", {"50xoff@example.com"}),  # still case-insensitive
    ("%%", set()),
])
def test_wildcards_match_only_themselves(app, people, query, expected):
    assert _found(app, query) == expected


def test_the_users_page_escapes_wildcards_too(admin_client, people):
    page = admin_client.get("/admin/users", params={"q": "_"}).text
    assert "a_b@example.com" in page
    assert "axb@example.com" not in page and "plain@example.com" not in page  # `_` is not "any one character"
    everyone = admin_client.get("/admin/users", params={"q": "example"}).text
    assert "axb@example.com" in everyone and "plain@example.com" in everyone
