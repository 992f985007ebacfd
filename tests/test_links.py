"""Every link and form target on the pages is a real path: templates build them from route
names, and a slip (a Jinja expression quoted as text) would send browsers to a 404."""

from __future__ import annotations

import re

import pytest

ATTRIBUTE = re.compile(r'\b(?:href|action|hx-get|hx-post|src)="([^"]*)"')
ADMIN_PAGES = ["/", "/questions", "/practice", "/practice/mock", "/submissions", "/progress", "/review",
               "/assessments", "/assessments/new", "/assessments/join", "/account/password", "/admin",
               "/admin/users", "/admin/audit", "/admin/outbox", "/admin/queue", "/admin/calibration",
               "/admin/questions", "/admin/questions/new", "/admin/questions/import", "/account/time-zone",
               "/password/forgot"]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_links_and_form_targets_are_paths(admin_client, page) -> None:
    response = admin_client.get(page)
    assert response.status_code == 200, page
    targets = ATTRIBUTE.findall(response.text)
    assert targets, f"{page} has no links"
    bad = [t for t in targets if "{" in t or "%7B" in t or not t.startswith(("/", "#", "http", "mailto:", "?"))]
    assert bad == [], f"{page}: {bad}"
    assert 'action="/logout"' in response.text  # the account menu's forms, on every page


def test_anonymous_pages_link_to_paths(client) -> None:
    for page in ("/login", "/register", "/questions"):
        targets = ATTRIBUTE.findall(client.get(page).text)
        assert [t for t in targets if "{" in t or "%7B" in t] == [], page
