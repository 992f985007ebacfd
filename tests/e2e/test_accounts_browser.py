"""A person signs up, logs out, logs in and changes their password in a real browser."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect


def _email() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}@example.com"


def test_register_logout_login_change_password(page) -> None:
    email = _email()
    page.goto("/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill("Browser Ada")
    page.get_by_label("Password").fill("a sturdy passphrase")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Welcome back, Browser Ada")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url("/login")
    expect(page.get_by_text("You have been logged out.")).to_be_visible()

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("wrong passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Email or password is incorrect.")
    page.get_by_label("Password").fill("a sturdy passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Welcome back, Browser Ada")).to_be_visible()

    page.goto("/account/password")
    page.get_by_label("Current password").fill("a sturdy passphrase")
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#new_password-error")).to_contain_text("at least 8 characters")
    # Passwords are never echoed back, so both fields are typed again.
    page.get_by_label("Current password").fill("a sturdy passphrase")
    page.get_by_label("New password").fill("an even sturdier passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()


def test_register_inline_validation_with_javascript(page, live_server) -> None:
    page.goto("/register")
    page.get_by_label("Password").fill("password")
    page.get_by_label("Email").click()  # blur the password field: htmx validates it
    expect(page.locator("#password-error")).to_contain_text("most common passwords")
    page.get_by_label("Email").fill("not an email")
    page.get_by_label("Display name").click()
    expect(page.locator("#email-error")).not_to_be_empty()


def test_register_without_javascript(nojs_page) -> None:
    page = nojs_page
    page.goto("/register")
    page.get_by_label("Email").fill("nojs-" + _email())
    page.get_by_label("Display name").fill("")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#display_name-error")).to_contain_text("Tell us what to call you")
    expect(page.locator("#password-error")).to_contain_text("at least 8 characters")
    page.get_by_label("Display name").fill("No Script")
    page.get_by_label("Password").fill("plain forms still work")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Welcome back, No Script")).to_be_visible()
