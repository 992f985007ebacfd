"""Times read in the viewer's own time zone; UTC stays in the title (and is the text without JavaScript)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in


def test_times_are_shown_in_the_viewers_time_zone(browser, live_server) -> None:
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Kolkata", locale="en-GB")
    page = context.new_page()
    try:
        log_in(page, create_account(live_server, "admin"))
        page.goto("/admin/audit")  # the log-in itself is an event with a time
        first = page.locator("time[data-local]").first
        expect(first).to_have_attribute("data-localised", "1")
        title, text, moment = first.get_attribute("title"), first.inner_text(), first.get_attribute("datetime")
        assert title.endswith(" UTC") and "UTC" not in text
        local = datetime.fromisoformat(moment).astimezone(ZoneInfo("Asia/Kolkata"))
        assert f"{local:%H:%M}" in text, (text, local)  # UTC+5:30, as the browser's zone says
    finally:
        context.close()


def test_a_chosen_time_zone_wins_over_the_browsers(browser, live_server) -> None:
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Kolkata", locale="en-GB")
    page = context.new_page()
    try:
        log_in(page, create_account(live_server, "admin"))
        page.goto("/account/time-zone")
        page.get_by_label("Show times in").select_option("Asia/Tokyo")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Times are shown in Asia/Tokyo.")).to_be_visible()
        page.goto("/admin/audit")
        first = page.locator("time[data-local]").first
        expect(first).to_have_attribute("data-localised", "1")
        local = datetime.fromisoformat(first.get_attribute("datetime")).astimezone(ZoneInfo("Asia/Tokyo"))
        assert f"{local:%H:%M}" in first.inner_text()  # UTC+9, not the browser's +5:30
    finally:
        context.close()
