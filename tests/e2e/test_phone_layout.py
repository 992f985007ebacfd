"""Every main page fits a 390 px phone screen: no horizontal scroll, the navigation behind Menu."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in

PHONE = {"width": 390, "height": 844}
PAGES = {
    "anonymous": ["/", "/questions", "/login", "/register", "/password/forgot"],
    "candidate": ["/", "/questions", "/practice", "/practice/mock", "/progress", "/submissions", "/assessments",
                  "/assessments/join", "/account/password"],
    "interviewer": ["/review", "/review?state=all", "/assessments/new"],
    "admin": ["/admin", "/admin/users", "/admin/audit", "/admin/queue", "/admin/calibration", "/admin/questions",
              "/admin/questions/new", "/admin/questions/import"],
}


def _overflow(page) -> int:
    """How far the page is wider than the screen, in CSS pixels (0: no horizontal scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_fits_a_phone(browser, live_server, role) -> None:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        if role != "anonymous":
            log_in(page, create_account(live_server, role))
        page.set_viewport_size(PHONE)
        question = page.goto("/questions") and page.locator("a[href^='/questions/']").first.get_attribute("href")
        wide = {}
        for path in [*PAGES[role], *([question] if role in ("anonymous", "candidate") and question else [])]:
            page.goto(path)
            if (extra := _overflow(page)) > 0:
                wide[path] = extra
        assert wide == {}, f"pages wider than {PHONE['width']} px (by how much): {wide}"
    finally:
        context.close()


def test_the_navigation_folds_behind_menu_on_a_phone(browser, live_server) -> None:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    try:
        log_in(page, create_account(live_server))
        page.set_viewport_size(PHONE)
        page.reload()
        menu = page.locator("details.site-menu")
        expect(page.get_by_role("link", name="My answers")).to_be_hidden()
        menu.locator(":scope > summary").click()
        expect(page.get_by_role("link", name="My answers")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.get_by_role("link", name="My answers")).to_be_hidden()
        page.set_viewport_size({"width": 1280, "height": 800})  # a wide screen shows it all, no Menu
        expect(page.get_by_role("link", name="My answers")).to_be_visible()
        expect(menu.locator(":scope > summary")).to_be_hidden()
    finally:
        context.close()
