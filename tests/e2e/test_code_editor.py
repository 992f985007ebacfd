"""The code answer box is a CodeMirror editor (static/js/editor.js) under the site's strict CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in
from tests.e2e.editing import paste_code
from webapp.questions.bank import default_bank_dir, read_path

SLUG = "upload-endpoint-metadata"
QUESTION = f"/questions/{SLUG}"
# Every CSP violation of the page, in order (an init script: it listens before any page script runs).
# A form sent with errors comes back as 422, which Chromium logs as a console error: expected.
EXPECTED_ERRORS = re.compile(r"^Failed to load resource: the server responded with a status of 422\b")
WATCH_CSP = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));"""


def _correct_solution() -> str:
    question = next(q for q in read_path(default_bank_dir()).questions if q.slug == SLUG)
    assert question.kind == "code" and question.status == "published" and question.correct_solutions
    return question.correct_solutions[0].code


@pytest.fixture
def candidate(browser, live_server):
    """Opens a page signed in as a new candidate (keyword arguments: context options). At the end, fails
    on any console error, uncaught exception or CSP violation of those pages."""
    contexts, problems = [], []

    def open_page(**options):
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        context.set_default_timeout(15_000)
        context.add_init_script(WATCH_CSP)
        page = context.new_page()
        page.on("console", lambda msg: problems.append(msg.text)
                if msg.type == "error" and not EXPECTED_ERRORS.match(msg.text) else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        log_in(page, create_account(live_server))
        return page

    try:
        yield open_page
        for context in contexts:
            for page in context.pages:
                problems.extend(page.evaluate("window.__cspViolations"))
    finally:
        for context in contexts:
            context.close()
    assert problems == [], problems


def _open_question(page):
    page.goto(QUESTION)
    expect(page.locator(".cm-editor")).to_be_visible()
    return page.locator(".cm-content")


def test_code_question_shows_the_editor_named_by_its_label(candidate) -> None:
    page = candidate()
    content = _open_question(page)
    expect(page.locator(".cm-editor .cm-lineNumbers .cm-gutterElement", has_text=re.compile(r"^1$"))).to_be_visible()
    expect(page.locator("textarea#code")).to_be_hidden()  # still in the form, holding the text
    expect(page.locator("textarea#code")).to_have_value(re.compile("FastAPI"))
    editor = page.get_by_role("textbox", name="Paste your code")
    expect(editor).to_have_attribute("class", re.compile(r"\bcm-content\b"))
    expect(editor).to_have_attribute("aria-describedby", re.compile(r"\bcode-error\b"))
    page.get_by_text("Paste your code", exact=True).click()
    expect(content).to_be_focused()


def test_typing_highlights_python_and_closes_brackets(candidate) -> None:
    page = candidate()
    content = _open_question(page)
    content.focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.type("def f(:")
    expect(page.locator("textarea#code")).to_have_value("def f(:)")  # the ")" was closed for us
    expect(content.locator(".tok-keyword", has_text="def")).to_be_visible()
    expect(content.locator(".tok-definition", has_text="f")).to_be_visible()


def test_tab_indents_and_escape_then_tab_leaves(candidate) -> None:
    page = candidate()
    content = _open_question(page)
    content.focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.type("x = 1")
    page.keyboard.press("Home")
    page.keyboard.press("Tab")
    expect(page.locator("textarea#code")).to_have_value("    x = 1")
    expect(content).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("textarea#code")).to_have_value("x = 1")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(content).not_to_be_focused()


def test_a_correct_solution_pasted_into_the_editor_is_graded(candidate) -> None:
    page = candidate()
    _open_question(page)
    solution = _correct_solution()
    paste_code(page, solution)
    expect(page.locator("textarea#code")).to_have_value(solution)
    page.get_by_role("button", name="Submit answer").click()
    # The status polls itself (htmx) until the grade is in; expect() polls it, with a deadline.
    expect(page.locator("#submission-status .score")).to_have_text("100", timeout=90_000)


def test_the_upload_still_works_beside_the_editor(candidate, tmp_path) -> None:
    page = candidate()
    _open_question(page)
    upload = tmp_path / "solution.py"
    upload.write_text(_correct_solution(), encoding="utf-8")
    page.locator("input#file").set_input_files(upload)
    page.get_by_role("button", name="Submit answer").click()
    expect(page.locator("#submission-status .score")).to_have_text("100", timeout=90_000)


def test_a_form_re_rendered_with_errors_gets_its_editor_back(candidate) -> None:
    page = candidate()
    content = _open_question(page)
    content.focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.get_by_role("button", name="Submit answer").click()
    expect(page.locator("#code-error")).to_have_text(re.compile("Paste your code"))
    # The swapped-in form has a new editor, marked invalid and described by the error, in focus.
    expect(page.locator(".cm-editor")).to_have_count(1)
    editor = page.get_by_role("textbox", name="Paste your code")
    expect(editor).to_have_attribute("aria-invalid", "true")
    expect(editor).to_have_attribute("aria-describedby", re.compile(r"\bcode-error\b"))
    expect(editor).to_be_focused()


def test_dark_colour_scheme_uses_the_dark_theme(candidate) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        page = candidate(color_scheme=scheme)
        _open_question(page)
        colours[scheme] = page.evaluate("""() => [".cm-editor", ".cm-gutters", ".tok-keyword"].map(
            (selector) => getComputedStyle(document.querySelector(selector))[selector === ".tok-keyword" ? "color"
                                                                              : "backgroundColor"])""")
    assert all(light != dark for light, dark in zip(colours["light"], colours["dark"], strict=True)), colours


def test_the_editor_fits_a_phone(candidate) -> None:
    page = candidate()
    page.set_viewport_size({"width": 390, "height": 844})
    _open_question(page)
    paste_code(page, "x = '" + "a very long line " * 30 + "'\n")
    expect(page.locator("textarea#code")).to_have_value(re.compile("a very long line"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    scroller = page.locator(".cm-editor .cm-scroller")
    assert scroller.evaluate("s => s.scrollWidth > s.clientWidth")  # the editor scrolls inside itself


def test_without_javascript_the_plain_textarea_is_there(nojs_page, live_server) -> None:
    page = nojs_page
    log_in(page, create_account(live_server))
    page.goto(QUESTION)
    expect(page.get_by_label("Paste your code")).to_be_visible()
    expect(page.locator("textarea#code")).to_be_visible()
    expect(page.locator(".cm-editor")).to_have_count(0)
