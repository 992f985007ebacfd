"""Back and Forward through htmx-pushed pages raise no script error."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in


def test_back_and_forward_after_filtering_raise_no_error(page, live_server) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, create_account(live_server))
    page.goto("/questions")
    page.get_by_label("Kind").select_option("code")
    page.wait_for_url("**kind=code**")  # htmx pushed the filtered list into the history
    page.locator("#results a[href^='/questions/']").first.click()
    expect(page.get_by_role("heading", name="Your answer")).to_be_visible()
    page.go_back()
    expect(page.get_by_label("Kind")).to_have_value("code")
    page.go_back()
    expect(page.get_by_label("Kind")).to_have_value("")
    page.go_forward()
    expect(page.get_by_label("Kind")).to_have_value("code")
    assert errors == []
