"""The assessment builder's question list narrows by words, topic and difficulty; choices survive.
Staff set the order candidates see: positions follow the picking, ↑ ↓ move a question, and without
JavaScript the positions are typed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in

CHOOSING = ("flask-vs-fastapi-choosing", "Choosing between FastAPI and Flask for a new API")
CLAIMS = ("fastapi-flask-accurate-claims", "Which claims about Flask and FastAPI hold today?")
SOURCES = ("type-hints-parameter-sources", "Where FastAPI reads each parameter from")


def test_the_question_list_narrows_and_keeps_what_was_chosen(page, live_server) -> None:
    log_in(page, create_account(live_server, "interviewer"))
    page.goto("/assessments/new")
    items = page.locator(".picker-item")
    total = items.count()
    assert total > 20
    page.get_by_label("Find", exact=True).fill("cors")
    visible = page.locator(".picker-item:visible")
    expect(visible.first).to_be_visible()
    assert 0 < visible.count() < total and all("cors" in t.lower() for t in visible.all_inner_texts())
    visible.first.locator("input[name=questions]").check()
    page.get_by_label("Find", exact=True).fill("")
    page.get_by_label("Topic", exact=True).select_option("pydantic")
    expect(page.locator("[data-picker-count]")).to_have_text(re.compile(r"^\d+ of \d+ shown · 1 chosen$"))
    assert all(t == "pydantic" for t in page.locator(".picker-item:visible").evaluate_all(
        "els => els.map(e => e.dataset.topic)"))
    assert page.locator("input[name=questions]:checked").count() == 1  # hidden, still chosen


def _position(page, title: str):
    return page.get_by_label(f"Position of {title}", exact=True)


def _questions_in_order(page) -> list[str]:
    return page.locator("main ol li").evaluate_all("els => els.map(e => e.firstChild.textContent.trim())")


def test_questions_come_in_the_order_picked_and_move_up_and_down(page, live_server) -> None:
    log_in(page, create_account(live_server, "interviewer"))
    page.goto("/assessments/new")
    page.get_by_label("Title").fill("Ordered screen")
    for slug, _ in (SOURCES, CHOOSING, CLAIMS):  # not the order of the list
        page.locator(f"input[name=questions][value={slug}]").check()
    order = page.locator("[data-picker-order] li")
    expect(order).to_have_count(3)
    assert [_position(page, title).input_value() for _, title in (SOURCES, CHOOSING, CLAIMS)] == ["1", "2", "3"]
    assert order.all_inner_texts()[0].startswith(SOURCES[1])
    page.get_by_role("button", name=f"Move {CLAIMS[1]} up").click()  # third → second
    expect(page.get_by_role("button", name=f"Move {CLAIMS[1]} up")).to_be_focused()  # focus follows it
    page.get_by_role("button", name=f"Move {SOURCES[1]} down").click()  # first → second
    expect(order.first).to_contain_text(CLAIMS[1])
    assert [_position(page, title).input_value() for _, title in (CLAIMS, SOURCES, CHOOSING)] == ["1", "2", "3"]
    page.locator(f"input[name=questions][value={SOURCES[0]}]").uncheck()  # the rest close up
    expect(order).to_have_count(2)
    assert _position(page, SOURCES[1]).input_value() == ""
    assert [_position(page, title).input_value() for _, title in (CLAIMS, CHOOSING)] == ["1", "2"]
    page.get_by_role("button", name="Create assessment").click()
    expect(page.get_by_text("Assessment created.")).to_be_visible()
    assert _questions_in_order(page) == [CLAIMS[1], CHOOSING[1]]


def test_without_javascript_positions_are_typed_and_checked(nojs_page, live_server) -> None:
    page = nojs_page
    log_in(page, create_account(live_server, "interviewer"))
    page.goto("/assessments/new")
    expect(page.locator("[data-picker-order]")).to_be_hidden()
    page.get_by_label("Title").fill("Typed order")
    for slug, _ in (CHOOSING, CLAIMS, SOURCES):
        page.locator(f"input[name=questions][value={slug}]").check()
    _position(page, SOURCES[1]).fill("1")
    _position(page, CHOOSING[1]).fill("two")
    page.get_by_role("button", name="Create assessment").click()
    field = _position(page, CHOOSING[1])
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("A position is a whole number from 1 to 999.")).to_be_visible()
    expect(field).to_have_value("two")
    field.fill("")  # no position: after the numbered ones, in the order of the list
    page.get_by_role("button", name="Create assessment").click()
    expect(page.get_by_text("Assessment created.")).to_be_visible()
    assert _questions_in_order(page) == [SOURCES[1], CHOOSING[1], CLAIMS[1]]
