"""Admins confirm before deactivating a user or resetting a password."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in


def test_deactivating_asks_first(page, live_server) -> None:
    target = create_account(live_server)
    log_in(page, create_account(live_server, "admin"))
    page.goto(f"/admin/users?q={target}")
    row = page.get_by_role("row").filter(has_text=target)
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.get_by_role("button", name="Deactivate").click()
    expect(row.get_by_role("cell", name="active", exact=True)).to_be_visible()  # nothing was sent
    assert asked and target in asked[0] and "sessions end" in asked[0]
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("row").filter(has_text=target).get_by_role("cell", name="deactivated")).to_be_visible()
