"""A candidate answers and watches the feedback arrive without reloading the page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in


def _candidate(page, live_server) -> None:
    log_in(page, create_account(live_server))


def test_text_answer_gets_live_feedback(page, live_server) -> None:
    _candidate(page, live_server)
    page.goto("/questions/flask-vs-fastapi-choosing")
    url_before = page.url
    page.get_by_label("Write your answer").fill(
        "FastAPI is an ASGI framework built on Starlette, so async endpoints run on an event loop, "
        "while Flask is WSGI. FastAPI validates requests with Pydantic models from type hints and "
        "generates OpenAPI docs automatically. Flask has a more mature ecosystem of extensions.")
    page.get_by_role("button", name="Submit answer").click()
    status = page.locator("#submission-status")
    expect(page.locator("#answer-result")).to_be_focused()  # not <body>: the status is read out
    expect(status.get_by_text("Score:")).to_be_visible(timeout=15_000)
    expect(status.locator(".rubric-feedback li.verdict-met").first).to_be_visible()
    expect(status.locator("mark").first).to_be_visible()
    assert page.url == url_before  # the feedback arrived in place, no navigation


def test_choice_answer_without_javascript(nojs_page, live_server) -> None:
    page = nojs_page
    _candidate(page, live_server)
    page.goto("/questions?kind=choice")
    page.locator(".question-list a").first.click()
    page.locator("input[name=choice]").first.check()
    page.get_by_role("button", name="Submit answer").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    # Without JavaScript the page refreshes itself (meta refresh) until the grade is in.
    expect(page.get_by_text("Score:")).to_be_visible(timeout=20_000)
