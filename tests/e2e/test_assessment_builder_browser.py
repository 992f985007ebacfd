"""The assessment builder's question picker in Chromium: the server searches the bank and sends a
page of matches as the words are typed, added questions are listed in order with ↑ ↓ and Remove,
and the assessment keeps that order. Without JavaScript the same buttons post the builder back."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in
from tests.e2e.test_accessibility import _violations

CHOOSING = ("flask-vs-fastapi-choosing", "Choosing between FastAPI and Flask for a new API")
CLAIMS = ("fastapi-flask-accurate-claims", "Which claims about Flask and FastAPI hold today?")
SOURCES = ("type-hints-parameter-sources", "Where FastAPI reads each parameter from")


def _selected(page) -> list[str]:
    return page.locator("[data-picker-order] > li").evaluate_all("els => els.map(e => e.dataset.title)")


def _positions(page) -> list[str]:
    return page.locator("[data-picker-order] input[name^=position-]").evaluate_all("els => els.map(e => e.value)")


def _questions_in_order(page) -> list[str]:
    """The assessment page's list of its questions."""
    return page.locator("main ol li").evaluate_all("els => els.map(e => e.firstChild.textContent.trim())")


def _search(page, words: str) -> None:
    page.get_by_label("Search", exact=True).fill(words)
    expect(page.locator("[data-picker-summary]")).to_contain_text(f"matching “{words}”")


def test_search_add_two_reorder_and_create(page, live_server) -> None:
    log_in(page, create_account(live_server, "interviewer"))
    page.goto("/assessments/new")
    assert page.locator("[data-picker-add]").count() == 20  # one page of the bank, not all of it
    page.get_by_label("Title").fill("Picked screen")
    _search(page, "choosing between")
    add = page.get_by_role("button", name=f"Add {CHOOSING[1]}")
    add.click()
    added = page.get_by_role("button", name=f"Added {CHOOSING[1]}")
    expect(added).to_be_focused()  # the same button, now saying so
    expect(page.locator("[data-picker-announce]")).to_have_text(f"Added {CHOOSING[1]}: 1 selected.")
    added.press("Enter")  # a second press adds nothing
    assert _selected(page) == [CHOOSING[1]]
    _search(page, "reads each parameter")
    page.get_by_role("button", name=f"Add {SOURCES[1]}").click()
    assert _selected(page) == [CHOOSING[1], SOURCES[1]] and _positions(page) == ["1", "2"]
    expect(page.get_by_role("heading", name="Selected questions (2)")).to_be_visible()

    page.get_by_role("button", name=f"Move {SOURCES[1]} up").click()
    expect(page.get_by_role("button", name=f"Move {SOURCES[1]} down")).to_be_focused()  # it is first now
    assert _selected(page) == [SOURCES[1], CHOOSING[1]] and _positions(page) == ["1", "2"]
    expect(page.locator("[data-picker-announce]")).to_have_text(f"{SOURCES[1]} is now number 1 of 2.")
    _search(page, "choosing between")  # a new search shows what is already selected as added
    expect(page.get_by_role("button", name=f"Added {CHOOSING[1]}")).to_be_visible()
    assert _violations(page) == []  # axe, with matches and a selected list built in the page

    page.get_by_role("button", name="Create assessment").click()
    expect(page.get_by_text("Assessment created.")).to_be_visible()
    assert _questions_in_order(page) == [SOURCES[1], CHOOSING[1]]


def test_filters_pages_typed_positions_and_remove(page, live_server) -> None:
    log_in(page, create_account(live_server, "interviewer"))
    page.goto("/assessments/new")
    summary = page.locator("[data-picker-summary]")
    first_page = page.locator("[data-picker-add]").evaluate_all("els => els.map(e => e.value)")
    page.get_by_role("button", name="Next →").click()
    expect(summary).to_contain_text("page 2 of")
    expect(summary).to_be_focused()  # the pressed button is gone with the old page
    assert not set(first_page) & set(page.locator("[data-picker-add]").evaluate_all("els => els.map(e => e.value)"))
    page.get_by_label("Topic", exact=True).select_option("pydantic")
    expect(summary).not_to_contain_text("page 2")
    metas = page.locator("[data-picker-add]").evaluate_all("els => els.map(e => e.dataset.meta)")
    assert metas and all(m.startswith("Pydantic") for m in metas)
    page.get_by_label("Kind", exact=True).select_option("code")
    expect(page.locator("[data-picker-add]").first).to_have_attribute("data-meta", re.compile(r"^Pydantic, code, "))

    page.get_by_label("Topic", exact=True).select_option("")
    page.get_by_label("Kind", exact=True).select_option("")
    for _, title in (CHOOSING, CLAIMS, SOURCES):
        page.get_by_label("Search", exact=True).fill(title)
        page.get_by_label("Search", exact=True).press("Enter")  # searches now; does not send the form
        page.get_by_role("button", name=f"Add {title}").click()
    assert page.url.endswith("/assessments/new")
    assert _selected(page) == [CHOOSING[1], CLAIMS[1], SOURCES[1]]
    page.get_by_label(f"Position of {SOURCES[1]}", exact=True).fill("1")
    page.get_by_label(f"Position of {SOURCES[1]}", exact=True).press("Tab")  # a typed position moves it there
    expect(page.locator("[data-picker-announce]")).to_have_text(f"{SOURCES[1]} is now number 1 of 3.")
    assert _selected(page) == [SOURCES[1], CHOOSING[1], CLAIMS[1]] and _positions(page) == ["1", "2", "3"]
    page.get_by_role("button", name=f"Remove {CHOOSING[1]}").click()
    expect(page.get_by_role("button", name=f"Remove {CLAIMS[1]}")).to_be_focused()
    assert _selected(page) == [SOURCES[1], CLAIMS[1]] and _positions(page) == ["1", "2"]
    page.get_by_role("button", name="Create assessment").click()  # no title: the selection comes back
    expect(page.get_by_text("Give the assessment a title.")).to_be_visible()
    assert _selected(page) == [SOURCES[1], CLAIMS[1]]
    assert _violations(page) == []  # axe, on the builder as the server sends it back with errors
    page.get_by_label("Title").fill("Kept")
    page.get_by_role("button", name="Create assessment").click()
    expect(page.get_by_text("Assessment created.")).to_be_visible()
    assert _questions_in_order(page) == [SOURCES[1], CLAIMS[1]]


def test_without_javascript_every_step_posts_the_builder_back(nojs_page, live_server) -> None:
    page = nojs_page
    log_in(page, create_account(live_server, "interviewer"))
    page.goto("/assessments/new")
    page.get_by_label("Title").fill("Typed order")
    page.get_by_label("Time limit (minutes)").fill("25")
    for _, title in (CHOOSING, SOURCES, CLAIMS):
        page.get_by_label("Search", exact=True).fill(title)
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.locator("[data-picker-summary]")).to_contain_text(f"matching “{title}”")
        page.get_by_role("button", name=f"Add {title}").click()
        expect(page.get_by_role("button", name=f"Added {title}")).to_be_disabled()
    expect(page.get_by_label("Title")).to_have_value("Typed order")  # kept across every step
    expect(page.get_by_label("Time limit (minutes)")).to_have_value("25")
    assert _selected(page) == [CHOOSING[1], SOURCES[1], CLAIMS[1]] and _positions(page) == ["1", "2", "3"]
    page.get_by_role("button", name=f"Move {CLAIMS[1]} up").click()
    assert _selected(page) == [CHOOSING[1], CLAIMS[1], SOURCES[1]]
    page.get_by_role("button", name=f"Remove {CHOOSING[1]}").click()
    assert _selected(page) == [CLAIMS[1], SOURCES[1]] and _positions(page) == ["1", "2"]
    page.get_by_label(f"Position of {SOURCES[1]}", exact=True).fill("two")
    page.get_by_role("button", name="Create assessment").click()
    field = page.get_by_label(f"Position of {SOURCES[1]}", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("two")
    expect(page.get_by_text("A position is a whole number from 1 to 999.")).to_be_visible()
    field.fill("1")  # typed positions decide: this one first
    page.get_by_label(f"Position of {CLAIMS[1]}", exact=True).fill("2")
    page.get_by_role("button", name="Create assessment").click()
    expect(page.get_by_text("Assessment created.")).to_be_visible()
    assert _questions_in_order(page) == [SOURCES[1], CLAIMS[1]]
