"""Accounts for browser tests: created through the CLI, signed in through the real form."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

PASSWORD = "a passphrase 1234"


def create_account(live_server, role: str = "candidate") -> str:
    """A new account with ``PASSWORD``; returns its email."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    live_server.cli("create-user", "--email", email, "--role", role, "--password-stdin", stdin=f"{PASSWORD}\n")
    return email


def log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def signed_in_page(browser, live_server, email: str):
    """A fresh browser context (its own cookies) signed in as ``email``."""
    page = browser.new_context(base_url=live_server.url).new_page()
    page.set_default_timeout(15_000)
    log_in(page, email)
    return page
