"""axe-core on the main pages of every role, in light and dark: no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.accounts import create_account, log_in

AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text(encoding="utf-8")
PAGES = {
    "anonymous": ["/", "/login", "/register", "/questions", "/password/forgot"],
    "candidate": ["/", "/questions", "/practice", "/progress", "/submissions", "/assessments", "/account/time-zone",
                  "/questions/upload-endpoint-metadata"],
    "interviewer": ["/review", "/assessments/new"],
    "admin": ["/admin", "/admin/users", "/admin/audit", "/admin/queue", "/admin/questions", "/admin/questions/new",
              "/admin/outbox"],
}
# Pages checked once their script has run: the code question's editor (loaded after the page).
READY = {"/questions/upload-endpoint-metadata": ".cm-editor"}


def _violations(page) -> list[str]:
    # Evaluated through the browser's debugging protocol, so the page's strict CSP does not block it.
    page.evaluate(AXE)
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
        .filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`)""")
    return list(found)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_have_no_serious_accessibility_violation(browser, live_server, role, scheme) -> None:
    context = browser.new_context(base_url=live_server.url, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        if role != "anonymous":
            log_in(page, create_account(live_server, role))
        problems = {}
        for path in PAGES[role]:
            page.goto(path)
            if path in READY:
                page.locator(READY[path]).wait_for()
            if found := _violations(page):
                problems[path] = found
        assert problems == {}, "\n".join(f"{path}: {v}" for path, found in problems.items() for v in found)
    finally:
        context.close()


def test_the_check_sees_a_violation_when_there_is_one(page) -> None:
    page.goto("/login")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/x.png\">')")
    assert any(v.startswith("image-alt (critical)") for v in _violations(page))
