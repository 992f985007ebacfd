"""The assessment builder's question picker: the server searches the bank and sends one page of
matches (htmx), the selected questions travel in the form in order, and without JavaScript every
picker button posts the builder back with its step taken and everything typed kept."""

from __future__ import annotations

import re
from functools import partial

import pytest

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.assessments.picking import MAX_LISTED, picker_step
from webapp.core.db import session_scope
from webapp.identity.models import Role
from webapp.questions.curation import get_question
from webapp.questions.editing import set_status
from webapp.questions.models import QuestionStatus

_post = partial(post_form, token_page="/assessments/new")
HTMX = {"HX-Request": "true"}


def _offered(html: str) -> list[str]:
    """The slugs of the matches shown, in order (each has an Add button)."""
    return re.findall(r'name="add" value="([^"]+)"', html)


def _selected(html: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="questions" value="([^"]+)">', html)


def _position(html: str, slug: str) -> str:
    return re.search(rf'<input name="position-{slug}"[^>]*value="([^"]*)"', html).group(1)


@pytest.fixture
def interviewer(make_user, make_client):
    client = make_client()
    login(client, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
    return client


def test_the_builder_shows_one_page_of_the_bank_and_a_next_page(interviewer, shipped_bank) -> None:
    published = [q for q in shipped_bank.questions if q.status == "published"]
    assert len(published) > 40
    first = interviewer.get("/assessments/new").text
    assert len(_offered(first)) == 20
    assert f"{len(published)} questions · page 1 of {-(-len(published) // 20)}" in first
    assert re.search(r'<button type="submit" name="page" value="2"[^>]*data-picker-page', first)
    assert "Previous" not in first
    second = interviewer.get("/assessments/new/questions?page=2", headers=HTMX)
    assert second.status_code == 200 and "<html" not in second.text  # only the results block
    assert len(_offered(second.text)) == 20 and not set(_offered(second.text)) & set(_offered(first))
    assert 'name="page" value="1"' in second.text and 'name="page" value="3"' in second.text
    last_page = -(-len(published) // 20)
    last = interviewer.get(f"/assessments/new/questions?page={last_page}", headers=HTMX).text
    assert len(_offered(last)) == len(published) - 20 * (last_page - 1) and "Next" not in last


def test_search_finds_a_question_by_its_title(interviewer, bank) -> None:
    wanted = next(q for q in bank.questions if q.kind == "code")
    found = interviewer.get("/assessments/new/questions", params={"q": wanted.title}, headers=HTMX).text
    assert _offered(found)[0] == wanted.slug
    assert len(_offered(found)) < len(bank.questions)
    assert f"matching “{wanted.title}”" in found
    nothing = interviewer.get("/assessments/new/questions", params={"q": "zebra quaternion"}, headers=HTMX).text
    assert _offered(nothing) == [] and "No published question matches" in nothing


def test_topic_difficulty_and_kind_narrow_the_matches(interviewer, bank) -> None:
    topic = bank.questions[0].topic
    in_topic = [q.slug for q in bank.questions if q.topic == topic]
    shown = interviewer.get("/assessments/new/questions", params={"topic": topic}, headers=HTMX).text
    assert sorted(_offered(shown)) == sorted(in_topic) and len(in_topic) < len(bank.questions)
    code = [q.slug for q in bank.questions if q.kind == "code"]
    assert sorted(_offered(interviewer.get("/assessments/new/questions?kind=code", headers=HTMX).text)) == sorted(code)
    easy = [q.slug for q in bank.questions if q.difficulty == "easy"]
    assert sorted(_offered(interviewer.get("/assessments/new?difficulty=easy").text)) == sorted(easy)
    # Without htmx the same address is the whole builder, with the filters chosen in its search.
    page = interviewer.get(f"/assessments/new/questions?topic={topic}").text
    assert "<h1>New assessment</h1>" in page and f'<option value="{topic}" selected>' in page


def test_drafts_are_never_offered_whatever_the_query_string_says(interviewer, bank, app) -> None:
    draft = bank.questions[0]
    with session_scope(app.state.db.write_session) as db:
        set_status(db, question=get_question(db, slug=draft.slug), status=QuestionStatus.draft, actor=None)
    for query in ({}, {"q": draft.title}, {"status": "draft"}, {"status": "draft", "q": draft.title}):
        assert draft.slug not in _offered(interviewer.get("/assessments/new/questions", params=query).text), query


def test_a_validation_error_keeps_the_selected_questions_in_order_and_the_search(interviewer, bank) -> None:
    a, b, c = (q.slug for q in bank.questions[:3])
    bad = _post(interviewer, "/assessments/new", {
        "title": "", "time_limit": "30", "questions": [c, a, b], f"position-{c}": "1", f"position-{a}": "2",
        f"position-{b}": "x", "q": "pydantic", "results_page": "1"})
    assert bad.status_code == 422
    assert _selected(bad.text) == [c, a, b]
    assert [_position(bad.text, s) for s in (c, a, b)] == ["1", "2", "x"]
    assert "Give the assessment a title." in bad.text
    assert re.search(rf'<input name="position-{b}"[^>]*aria-invalid="true"', bad.text)
    assert 'name="q" type="search" value="pydantic"' in bad.text
    # A selected question among the matches is marked as added (and cannot be added twice).
    added = re.findall(r'name="add" value="([^"]+)"[^>]*aria-label="Added [^"]*" disabled', bad.text)
    assert set(added) == {a, b, c} & set(_offered(bad.text))


def test_without_javascript_a_search_keeps_what_was_typed_and_selected(interviewer, bank) -> None:
    a, b = bank.questions[0], bank.questions[1]
    searched = _post(interviewer, "/assessments/new/picker", {
        "title": "Screen", "time_limit": "45", "candidate_feedback": "nothing", "questions": [a.slug, b.slug],
        f"position-{a.slug}": "2", f"position-{b.slug}": "1", "q": b.title, "page": "1"})
    assert searched.status_code == 200
    html = searched.text
    assert 'value="Screen"' in html and 'value="45"' in html and 'value="nothing" checked' in html
    assert _selected(html) == [b.slug, a.slug]  # in the order the typed positions give, numbered afresh
    assert [_position(html, s) for s in (b.slug, a.slug)] == ["1", "2"]
    assert _offered(html)[0] == b.slug and f'name="q" type="search" value="{b.title}"' in html
    created = _post(interviewer, "/assessments/new", {
        "title": "Screen", "time_limit": "45", "candidate_feedback": "nothing", "questions": _selected(html),
        **{f"position-{s}": _position(html, s) for s in _selected(html)}})
    assert created.status_code == 303
    detail = interviewer.get(created.headers["location"]).text
    assert re.findall(r"<li>([^<]+) <small>", detail) == [b.title, a.title]


def test_without_javascript_add_move_and_remove_are_steps_of_the_same_form(interviewer, bank) -> None:
    a, b, c = (q.slug for q in bank.questions[:3])
    form = {"title": "T", "time_limit": "30", "results_page": "1"}

    def step(questions: list[str], **button: str) -> str:
        fields = {**form, "questions": questions, **{f"position-{s}": str(n) for n, s in enumerate(questions, 1)}}
        response = _post(interviewer, "/assessments/new/picker", {**fields, **button})
        assert response.status_code == 200, response.text[:300]
        return response.text

    assert _selected(step([], add=a)) == [a]
    assert _selected(step([a], add=b)) == [a, b]
    assert _selected(step([a, b], add=a)) == [a, b]  # once only
    assert _selected(step([a, b, c], up=c)) == [a, c, b]
    assert _selected(step([a, b, c], down=a)) == [b, a, c]
    assert _selected(step([a, b, c], down=c)) == [a, b, c]  # already last
    removed = step([a, b, c], remove=b)
    assert _selected(removed) == [a, c] and [_position(removed, s) for s in (a, c)] == ["1", "2"]
    # Paging stays on the page shown unless a button names another.
    assert 'name="results_page" value="1"' in removed
    on_two = _post(interviewer, "/assessments/new/picker", {**form, "results_page": "2", "add": a})
    assert 'name="results_page" value="2"' in on_two.text


def test_the_picker_is_for_staff_only(make_user, make_client, client, bank) -> None:
    candidate = make_client()
    login(candidate, make_user(email="cand@example.com").email, PASSWORD)
    assert candidate.get("/assessments/new/questions?q=flask", headers=HTMX).status_code == 403
    assert post_form(candidate, "/assessments/new/picker", {"add": bank.questions[0].slug},
                     token_page="/assessments").status_code == 403
    anonymous = client.get("/assessments/new/questions", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


@pytest.mark.parametrize(("button", "expected"), [
    ({}, ["a", "b", "c"]),
    ({"add": "d"}, ["a", "b", "c", "d"]),
    ({"add": "b"}, ["a", "b", "c"]),
    ({"remove": "b"}, ["a", "c"]),
    ({"remove": "zz"}, ["a", "b", "c"]),
    ({"up": "a"}, ["a", "b", "c"]),
    ({"up": "b"}, ["b", "a", "c"]),
    ({"down": "b"}, ["a", "c", "b"]),
    ({"down": "c"}, ["a", "b", "c"]),
])
def test_a_step_applies_one_button_and_numbers_the_list(button, expected) -> None:
    step = picker_step(slugs=["a", "b", "c"], positions={}, **button)
    assert step.slugs == expected and step.errors == {}
    assert step.positions == {slug: str(n) for n, slug in enumerate(expected, 1)}


def test_a_step_orders_by_the_typed_positions_first_and_keeps_bad_ones_with_their_error() -> None:
    assert picker_step(slugs=["a", "b", "c"], positions={"a": "3", "b": "", "c": "1"}, up="b").slugs == ["c", "b", "a"]
    kept = picker_step(slugs=["a", "b", "c"], positions={"a": "3", "b": "two", "c": "1"}, add="d")
    assert kept.slugs == ["a", "b", "c", "d"]  # as listed: the typed order cannot be read
    assert kept.positions == {"a": "3", "b": "two", "c": "1", "d": ""}
    assert kept.errors == {"position-b": "A position is a whole number from 1 to 999."}
    fixed = picker_step(slugs=["a", "b", "c"], positions={"a": "3", "b": "two", "c": "1"}, remove="b")
    assert fixed.slugs == ["a", "c"] and fixed.positions == {"a": "1", "c": "2"} and fixed.errors == {}


def test_a_step_lists_each_question_once_and_at_most_max_listed() -> None:
    slugs = [f"q{n}" for n in range(MAX_LISTED + 50)] + ["q1", " q2 ", ""]
    step = picker_step(slugs=slugs, positions={}, add="extra")
    assert step.slugs == [f"q{n}" for n in range(MAX_LISTED)]
