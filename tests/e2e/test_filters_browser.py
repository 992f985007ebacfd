"""Every filter of every list page, changed one at a time in Chromium: picking an option or typing a
value hides a row it should hide and keeps one it should keep, the address bar carries the filter
(htmx pushes the URL), reloading that URL shows the same list, and clearing the field brings the row
back. No request, htmx or reload, is answered with an error.

The lists are filled with data of this module's own (unique names) over HTTP first; each page's
filters are a table: the control's label, the value to choose or type, a row it hides, a row it keeps.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e import seeding
from tests.e2e.accounts import PASSWORD, create_account, log_in
from tests.helpers import wait_for

CHOOSING = "Choosing between FastAPI and Flask for a new API"  # text, easy, first on the list
CLAIMS = "Which claims about Flask and FastAPI hold today?"  # choice, medium, tagged openapi
UPLOAD = "An upload endpoint that reports name, size and type"
PYDANTIC_ROLE = "What Pydantic does inside a FastAPI application"
VALIDATORS = "The current decorators for custom validation in Pydantic v2"

Row = tuple[str, ...]  # texts a row contains (all of them)


@dataclass(frozen=True)
class Filter:
    control: str  # the label of the filter's field
    value: str  # the option to pick (its value or its label), or what to type
    hides: Row  # a row the unfiltered list shows and this filter hides
    keeps: Row | None  # a row the filter shows (None: it leaves nothing of ours)


@dataclass(frozen=True)
class ListPage:
    path: str
    who: str  # the email of the user who looks
    rows: str  # the locator of one row of the list
    filters: list[Filter]


@dataclass(frozen=True)
class World:
    mark: str
    candidate: str  # has a solved choice answer and a weak text answer, both up for review
    other: str  # a candidate with a practice answer up for review and one in the assessment
    interviewer: str  # runs the assessment, claimed the candidate's text review
    admin: str
    ann: str  # a candidate account with the mark in its email
    bob: str  # made an interviewer from the command line (audited, by "system")
    assessment: str
    draft: str  # a draft question in the first topic
    day: datetime


@pytest.fixture(scope="module")
def world(live_server, tmp_path_factory) -> World:
    mark = uuid.uuid4().hex[:8]
    emails = {role: create_account(live_server, role) for role in ("candidate", "interviewer", "admin")}
    other = create_account(live_server)
    draft = f"A draft about filters {mark}"
    bank = tmp_path_factory.mktemp("bank") / "draft.yaml"
    bank.write_text(f"""questions:
  - slug: draft-filters-{mark}
    topic: fastapi-vs-flask
    difficulty: easy
    kind: choice
    status: draft
    title: {draft}
    prompt: Which one is right?
    choices:
      - {{id: a, text: This one, correct: true}}
      - {{id: b, text: That one, correct: false}}
""")
    live_server.cli("questions", "import", str(bank))

    candidate = seeding.signed_in_client(live_server, emails["candidate"])
    solved = seeding.answer(candidate, "fastapi-flask-accurate-claims", choices=("a", "b"))
    weak = seeding.answer(candidate, "flask-vs-fastapi-choosing", text="I do not know.")
    for submission_id in (solved, weak):
        seeding.ask_for_review(candidate, submission_id)
    someone = seeding.signed_in_client(live_server, other)
    validators = seeding.answer(someone, "pydantic-v2-validator-decorators",
                                choices=(seeding.first_choice(someone, "pydantic-v2-validator-decorators"),))
    seeding.ask_for_review(someone, validators)

    interviewer = seeding.signed_in_client(live_server, emails["interviewer"])
    title = f"Filters screen {mark}"
    assessment = seeding.create_assessment(interviewer, title=title, slugs=["type-hints-parameter-sources"])
    seeding.invite(interviewer, assessment, other)
    attempt = seeding.start_attempt(someone, title)
    seeding.answer(someone, "type-hints-parameter-sources", attempt=attempt,
                   choices=(seeding.first_choice(someone, "type-hints-parameter-sources"),))
    seeding.claim_review(interviewer, weak)
    wait_for(lambda: "Where FastAPI reads" in interviewer.get("/review", params={"assessment": assessment}).text,
             timeout=60, interval=0.2, message="the assessment's answer to be graded")

    ann, bob = f"ann-{mark}@example.com", f"bob-{mark}@example.com"
    for email in (ann, bob):
        live_server.cli("create-user", "--email", email, "--password-stdin", stdin=f"{PASSWORD}\n")
    live_server.cli("set-role", "--email", bob, "--role", "interviewer")
    for client in (candidate, someone, interviewer):
        client.close()
    return World(mark=mark, candidate=emails["candidate"], other=other, interviewer=emails["interviewer"],
                 admin=emails["admin"], ann=ann, bob=bob, assessment=title, draft=draft, day=datetime.now(UTC))


def list_pages(w: World) -> dict[str, ListPage]:
    """Every list page with a filter form, and what each of its filters should do to our rows."""
    tomorrow, yesterday = (f"{w.day + timedelta(days=n):%Y-%m-%d}" for n in (1, -1))
    mine, theirs, weak = (CLAIMS, w.candidate), (VALIDATORS, w.other), (CHOOSING, w.candidate)
    return {
        "/questions": ListPage("/questions", w.candidate, "#results .question-list li", [
            Filter("Search", "upload", hides=(CHOOSING,), keeps=(UPLOAD,)),
            Filter("Topic", "pydantic", hides=(CHOOSING,), keeps=(PYDANTIC_ROLE,)),
            Filter("Difficulty", "medium", hides=(CHOOSING,), keeps=(CLAIMS,)),
            Filter("Kind", "choice", hides=(CHOOSING,), keeps=(CLAIMS,)),
            Filter("Tag", "openapi", hides=(CHOOSING,), keeps=(CLAIMS,)),
            Filter("Your standing", "solved", hides=(CHOOSING,), keeps=(CLAIMS,)),
        ]),
        "/submissions": ListPage("/submissions", w.candidate, "#results tbody tr", [
            Filter("Status", "failed", hides=(CLAIMS,), keeps=None),
            Filter("Kind", "choice", hides=(CHOOSING,), keeps=(CLAIMS,)),
        ]),
        "/review": ListPage("/review", w.interviewer, "#results tbody tr", [
            Filter("State", "claimed", hides=mine, keeps=weak),
            Filter("Assessment", w.assessment, hides=mine, keeps=("Where FastAPI reads each parameter from", w.other)),
            Filter("Candidate", w.other, hides=mine, keeps=theirs),
            Filter("Question", "fastapi-flask-accurate-claims", hides=weak, keeps=mine),
            Filter("Topic", "pydantic", hides=mine, keeps=theirs),
            Filter("Score from", "50", hides=weak, keeps=mine),
            Filter("to", "50", hides=mine, keeps=weak),
        ]),
        "/admin/users": ListPage("/admin/users", w.admin, "#results tbody tr", [
            Filter("Email or name", f"ann-{w.mark}", hides=(w.bob,), keeps=(w.ann,)),
            Filter("Role", "interviewer", hides=(w.ann,), keeps=(w.bob,)),
        ]),
        "/admin/audit": ListPage("/admin/audit", w.admin, "#results tbody tr", [
            Filter("Actor", w.interviewer, hides=(f"{w.bob}: candidate",), keeps=(w.assessment,)),
            Filter("Action", "user.role_changed", hides=(w.assessment,), keeps=(f"{w.bob}: candidate",)),
            Filter("From", tomorrow, hides=(w.assessment,), keeps=None),
            Filter("To", yesterday, hides=(w.assessment,), keeps=None),
        ]),
        "/admin/questions": ListPage("/admin/questions", w.admin, "#results tbody tr", [
            Filter("Search", "upload", hides=(CHOOSING,), keeps=(UPLOAD,)),
            Filter("Status", "draft", hides=(CHOOSING,), keeps=(w.draft,)),
            Filter("Kind", "choice", hides=(CHOOSING,), keeps=(CLAIMS,)),
        ]),
    }


PATHS = ["/questions", "/submissions", "/review", "/admin/users", "/admin/audit", "/admin/questions"]  # its keys


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


@pytest.mark.parametrize("path", PATHS)
def test_every_filter_narrows_the_list_in_the_address_bar_and_clears(page, live_server, world, path) -> None:
    spec = list_pages(world)[path]
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None)
    log_in(page, spec.who)

    def rows(texts: Row):
        found = page.locator(spec.rows)
        for text in texts:
            found = found.filter(has_text=text)
        return found

    def shown(case: Filter, *, filtered: bool, when: str) -> None:
        expect(rows(case.hides), when).to_have_count(0 if filtered else 1)
        if filtered and case.keeps:
            expect(rows(case.keeps), when).to_have_count(1)

    for case in spec.filters:
        where = f"{path}, {case.control} = {case.value!r}"
        assert page.goto(spec.path).status == 200, where
        shown(case, filtered=False, when=where)
        form = page.locator("form[method=get]")
        # A label wrapping its field names it with the field's value too: found by how the name starts.
        name = form.get_by_label(re.compile(rf"^{re.escape(case.control)}\b")).get_attribute("name")
        control = form.locator(f"[name={name}]")
        initial, is_select = control.input_value(), control.evaluate("el => el.tagName") == "SELECT"

        _change(control, case.value, is_select=is_select)
        chosen = control.input_value()
        assert chosen and chosen != initial, where
        page.wait_for_url(lambda url: _query(url).get(name) == [chosen])  # noqa: B023 (called at once)
        shown(case, filtered=True, when=f"{where} (filtered)")
        assert page.reload().status == 200, where  # the pushed URL, loaded afresh
        expect(control, where).to_have_value(chosen)
        shown(case, filtered=True, when=f"{where} (reloaded)")

        _change(control, initial, is_select=is_select)  # back to "any" (the review queue's state: its default)
        page.wait_for_url(lambda url: _query(url).get(name, [""]) == [initial])  # noqa: B023
        shown(case, filtered=False, when=f"{where} (cleared)")
        assert page.reload().status == 200, where
        shown(case, filtered=False, when=f"{where} (cleared, reloaded)")
    assert errors == []


def _change(control, value: str, *, is_select: bool) -> None:
    """As a person does: pick the option, or type and leave the field (its change event)."""
    if is_select:
        control.select_option(value)
    else:
        control.fill(value)
        control.press("Tab")
