"""An admin writes and publishes a question; a candidate finds it through live search."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in


def test_admin_creates_previews_publishes_and_candidate_finds_it(browser, live_server) -> None:
    word = f"zebrafish{uuid.uuid4().hex[:6]}"
    admin_email, candidate_email = create_account(live_server, "admin"), create_account(live_server)

    admin = browser.new_context(base_url=live_server.url).new_page()
    log_in(admin, admin_email)
    admin.goto("/admin/questions/new")
    admin.get_by_label("Slug").fill(f"about-{word}")
    admin.get_by_label("Title").fill(f"Explain the {word} pattern")
    admin.get_by_label("Topic").select_option("middleware")
    admin.get_by_label("Prompt").fill(f"Describe **{word}** middleware.")
    # live preview (htmx), no page reload
    expect(admin.locator("#prompt-preview strong")).to_have_text(word)
    admin.get_by_label("Key point").fill("Middleware wraps every request")
    admin.locator("#rubric-0-claims").fill("middleware ; wrap|run ; every request|each request")
    admin.get_by_role("button", name="Add rubric point").click()
    expect(admin.locator("#rubric-1-point")).to_be_visible()
    admin.locator("#rubric-1-point").fill("It can add response headers")
    admin.locator("#rubric-1-claims").fill("middleware ; add|set ; response header")
    admin.get_by_role("button", name="Create question").click()
    expect(admin.get_by_role("status")).to_contain_text("(revision 1)")
    admin.get_by_role("button", name="Publish").click()
    expect(admin.get_by_text("is now published")).to_be_visible()

    candidate = browser.new_context(base_url=live_server.url).new_page()
    log_in(candidate, candidate_email)
    candidate.goto("/questions")
    candidate.get_by_label("Search").press_sequentially(word[:8], delay=30)
    result = candidate.get_by_role("link", name=f"Explain the {word} pattern")
    expect(result).to_be_visible()
    expect(candidate).to_have_url(f"{live_server.url}/questions?q={word[:8]}")
    result.click()
    expect(candidate.get_by_role("heading", name=f"Explain the {word} pattern")).to_be_visible()
    expect(candidate.locator(".prose strong")).to_have_text(word)
    admin.context.close()
    candidate.context.close()
