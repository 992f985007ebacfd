"""Session signals in a real browser: the assessment's answer page reports the opening, the first
keystroke, pastes (from outside the page or copied inside it), the page losing focus and the
answer sent; the interviewer's report shows them. Without JavaScript nothing is sent and the
report says so."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, log_in
from tests.e2e.editing import paste_at_cursor
from tests.e2e.seeding import signed_in_client
from tests.helpers import post_form, wait_for

CODE = "pydantic-signup-validators"
OUTSIDE = "def helper_from_somewhere_else(value):\n    return value * 2\n"
WATCH_CSP = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective));"""


def _assessment(live_server, candidates: list[str]) -> tuple[object, int]:
    staff = signed_in_client(live_server, create_account(live_server, "interviewer"))
    created = post_form(staff, "/assessments/new", {"title": "Signals screen", "time_limit": "30",
                                                     "questions": [CODE]}, token_page="/assessments")
    assert created.status_code == 303, created.text[:300]
    assessment = int(created.headers["location"].rsplit("/", 1)[1])
    invited = post_form(staff, f"/assessments/{assessment}/invite", {"emails": "\n".join(candidates)},
                        token_page="/assessments")
    assert invited.status_code == 303
    return staff, assessment


def _start_and_open(page) -> int:
    page.goto("/assessments")
    page.get_by_role("link", name="Signals screen").click()
    expect(page.locator("#signals-notice")).to_contain_text("never its text")
    page.get_by_role("button", name="Start the assessment").click()
    page.locator("table a").first.click()
    return int(re.search(r"/take/(\d+)/", page.url).group(1))


def _report(staff, assessment: int, attempt: int) -> str:
    return staff.get(f"/assessments/{assessment}/report/{attempt}").text


def test_the_answer_page_reports_how_the_answer_came_about(browser, live_server) -> None:
    email = create_account(live_server)
    staff, assessment = _assessment(live_server, [email])
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        log_in(page, email)
        attempt = _start_and_open(page)
        content = page.locator(".cm-content")
        expect(content).to_be_visible()
        content.click()
        page.keyboard.press("ControlOrMeta+End")
        page.keyboard.type("\n# my own line\n")
        paste_at_cursor(page, OUTSIDE)  # nothing was copied in the page: from outside
        page.keyboard.press("ControlOrMeta+a")
        page.evaluate("document.execCommand('copy')")  # CodeMirror fills the clipboard; the page remembers it
        copied = page.locator("textarea#code").input_value()
        paste_at_cursor(page, copied)  # the same text back: copied inside the page
        # The candidate switches to another window and back. Headless Chromium keeps every page
        # focused and visible whatever is in front, so the window's blur and focus are dispatched
        # as the browser would send them; the page measures the time between them itself.
        page.evaluate("window.dispatchEvent(new FocusEvent('blur'))")
        page.wait_for_function("performance.now() > 0")  # a round trip later
        page.evaluate("window.dispatchEvent(new FocusEvent('focus'))")
        page.get_by_role("button", name="Submit answer").click()
        expect(page.get_by_text("Answer saved.")).to_be_visible()

        def summary() -> str | None:
            report = _report(staff, assessment, attempt)
            cell = re.search(r'<td class="signals">(.*?)</td>', report, re.S)
            text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell.group(1))) if cell else ""
            return text if "sent" in text and "pastes" in text and "hidden" in text else None

        text = wait_for(summary, timeout=15, message="the report to show the page's signals")
        assert re.search(r"first keystroke after 0:\d\d", text), text
        assert f"2 pastes ({len(OUTSIDE) + len(copied)} characters; 1 from outside the page)" in text, text
        assert re.search(r"page hidden \d+ times?, \d+:\d\d in all", text), text
        assert re.search(r"sent \d+:\d\d after opening", text), text
        report = _report(staff, assessment, attempt)
        assert f"pasted {len(OUTSIDE)} characters from outside the page" in report
        assert f"pasted {len(copied)} characters copied inside the page" in report
        assert "page opened" in report and "answer sent" in report
        assert page.evaluate("window.__cspViolations") == []
        assert problems == [], problems
    finally:
        context.close()
        staff.close()


def test_without_javascript_nothing_is_recorded_and_the_report_says_so(browser, live_server) -> None:
    email = create_account(live_server)
    staff, assessment = _assessment(live_server, [email])
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("a passphrase 1234")
        page.get_by_role("button", name="Log in").click()
        attempt = _start_and_open(page)
        page.locator("textarea#code").fill("from fastapi import FastAPI\n\napp = FastAPI()\n")
        page.get_by_role("button", name="Submit answer").click()
        expect(page.get_by_text("Answer saved.")).to_be_visible()
        report = _report(staff, assessment, attempt)
        assert 'id="no-signals"' in report and "ran without\n    JavaScript" in report
    finally:
        context.close()
        staff.close()
