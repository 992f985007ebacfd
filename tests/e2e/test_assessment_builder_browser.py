"""The assessment builder's question list narrows by words, topic and difficulty; choices survive."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in


def test_the_question_list_narrows_and_keeps_what_was_chosen(page, live_server) -> None:
    log_in(page, create_account(live_server, "interviewer"))
    page.goto("/assessments/new")
    items = page.locator("label[data-topic]")
    total = items.count()
    assert total > 20
    page.get_by_label("Find").fill("cors")
    visible = page.locator("label[data-topic]:visible")
    expect(visible.first).to_be_visible()
    assert 0 < visible.count() < total and all("cors" in t.lower() for t in visible.all_inner_texts())
    visible.first.locator("input").check()
    page.get_by_label("Find").fill("")
    page.get_by_label("Topic", exact=True).select_option("pydantic")
    expect(page.locator("[data-picker-count]")).to_have_text(re.compile(r"^\d+ of \d+ shown · 1 chosen$"))
    assert all(t == "pydantic" for t in page.locator("label[data-topic]:visible").evaluate_all(
        "els => els.map(e => e.dataset.topic)"))
    assert page.locator("input[name=questions]:checked").count() == 1  # hidden, still chosen
