"""Run examples in a real browser: the editor's code against the visible example tests, results in
place (htmx polling), nothing submitted; without JavaScript the results open on their own page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in
from tests.e2e.editing import paste_code
from webapp.questions.bank import default_bank_dir, read_path

SLUG = "pydantic-signup-validators"


@pytest.fixture
def question():
    return next(q for q in read_path(default_bank_dir()).questions if q.slug == SLUG)


@pytest.fixture
def page_for(browser, live_server):
    contexts = []

    def open_page(**options):
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        log_in(page, create_account(live_server))
        page.goto(f"/questions/{SLUG}")
        return page

    yield open_page
    for context in contexts:
        context.close()



def test_run_examples_shows_each_example_result_under_the_form(page_for, question) -> None:
    page = page_for()
    expect(page.locator(".example-tests")).to_contain_text("test_example_a_valid_signup")
    expect(page.locator(".cm-editor")).to_be_visible()
    paste_code(page, question.reference_solution)
    page.get_by_role("button", name="Run examples").click()
    result = page.locator("#example-run")
    expect(result).to_contain_text("All 2 example tests passed.", timeout=90_000)
    expect(result.locator("tbody tr")).to_have_count(2)
    expect(page.locator("#answer-result")).to_be_empty()  # nothing was submitted

    paste_code(page, question.starter_code)
    page.get_by_role("button", name="Run examples").click()
    expect(result).to_contain_text("of 2 example tests passed", timeout=90_000)
    expect(result.locator("tr.ko").first).to_be_visible()
    page.goto("/submissions")
    expect(page.locator("main")).not_to_contain_text(question.title)  # runs are not answers


def test_without_javascript_the_run_opens_its_own_page(page_for, question) -> None:
    page = page_for(java_script_enabled=False)
    page.locator("textarea#code").fill(question.reference_solution)
    page.get_by_role("button", name="Run examples").click()
    expect(page).to_have_url(re.compile(rf"/questions/{SLUG}/runs/\d+$"))
    expect(page.get_by_role("heading", name="Example run")).to_be_visible()
    # The page refreshes itself (a <noscript> meta refresh) until the run is done.
    expect(page.get_by_text("All 2 example tests passed.")).to_be_visible(timeout=90_000)
    expect(page.get_by_role("heading", name="The code that ran")).to_be_visible()
