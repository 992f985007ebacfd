"""Interviewers set the order of an assessment's questions with a position beside each (no
JavaScript needed); candidates' take page, the question links and the report follow it."""

from __future__ import annotations

import re
from functools import partial

import pytest

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.assessments.service import question_order
from webapp.identity.models import Role

_post = partial(post_form, token_page="/assessments/new")


@pytest.mark.parametrize(("positions", "order"), [
    ({}, ["a", "b", "c"]),  # the order listed
    ({"a": "3", "b": "1", "c": "2"}, ["b", "c", "a"]),
    ({"a": "20", "b": "7", "c": "900"}, ["b", "a", "c"]),  # gaps close up
    ({"a": "2", "b": "1", "c": "1"}, ["b", "c", "a"]),  # ties keep the order listed
    ({"c": "1", "a": " "}, ["c", "a", "b"]),  # without a position: after the numbered, as listed
    ({"a": "007", "b": "1"}, ["b", "a", "c"]),  # leading zeros are still whole numbers
])
def test_positions_order_the_questions(positions, order) -> None:
    assert question_order(["a", "b", "c"], positions) == (order, {})


@pytest.mark.parametrize("typed", ["0", "-1", "1.5", "two", "²", "1000", "9" * 5000])
def test_a_position_that_is_no_whole_number_from_1_to_999_is_a_field_error(typed) -> None:
    assert question_order(["a", "b"], {"a": typed, "b": "1"})[1] == {
        "position-a": "A position is a whole number from 1 to 999."}


def _titles(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


def test_the_order_is_stored_and_candidates_and_the_report_follow_it(make_user, make_client, bank) -> None:
    interviewer, candidate = make_client(), make_client()
    login(interviewer, make_user(Role.interviewer).email, PASSWORD)
    login(candidate, make_user(email="cand@example.com").email, PASSWORD)
    first, second, third = bank.questions[:3]
    created = _post(interviewer, "/assessments/new", {
        "title": "Ordered", "time_limit": "30", "questions": [first.slug, second.slug, third.slug],
        f"position-{first.slug}": "30", f"position-{second.slug}": "", f"position-{third.slug}": "10",
        "position-not-chosen": "abc"})  # a position beside a question left unchosen is ignored
    assert created.status_code == 303, created.text
    page = created.headers["location"]
    wanted = [third.title, first.title, second.title]
    assert _titles(interviewer.get(page).text, r"<li>([^<]+) <small>") == wanted

    assessment_id = page.rsplit("/", 1)[1]
    assert _post(interviewer, f"{page}/invite", {"emails": "cand@example.com"}, token_page=page).status_code == 303
    attempt = re.search(r"/assessments/take/(\d+)", candidate.get("/assessments").text).group(1)
    take = f"/assessments/take/{attempt}"
    assert post_form(candidate, f"{take}/start", token_page=take).status_code == 303
    links = re.findall(rf'<td>(\d)</td>\s*<td><a href="{take}/questions/(\d)">([^<]+)</a>', candidate.get(take).text)
    assert links == [("1", "1", wanted[0]), ("2", "2", wanted[1]), ("3", "3", wanted[2])]
    assert f"<h1>{wanted[0]}</h1>" in candidate.get(f"{take}/questions/1").text
    report = interviewer.get(f"/assessments/{assessment_id}/report/{attempt}").text
    assert _titles(report, r"<tr><td>\d</td><td>([^<]+)</td>") == wanted


def test_a_bad_position_re_renders_the_form_with_a_field_error(make_user, make_client, bank) -> None:
    interviewer = make_client()
    login(interviewer, make_user(Role.interviewer).email, PASSWORD)
    first, second = bank.questions[:2]
    bad = _post(interviewer, "/assessments/new", {
        "title": "Ordered", "time_limit": "30", "questions": [first.slug, second.slug],
        f"position-{first.slug}": "first", f"position-{second.slug}": "2"})
    assert bad.status_code == 422
    field = f"position-{first.slug}"
    assert re.search(rf'<input name="{field}"[^>]*value="first"[^>]*aria-invalid="true"', bad.text)
    assert f'<small id="{field}-error" class="field-error">A position is a whole number from 1 to 999.</small>' \
        in bad.text
    assert "Some positions below are not whole numbers" in bad.text  # said at the top of the list as well
    assert re.search(rf'<input name="position-{second.slug}"[^>]*value="2"', bad.text)  # what was typed stays
    assert f'<input type="hidden" name="questions" value="{first.slug}">' in bad.text  # still selected
    empty = _post(interviewer, "/assessments/new", {"title": "Ordered", "time_limit": "30", "questions": [first.slug],
                                                    f"position-{first.slug}": "\u0661"})  # Arabic-Indic one
    assert empty.status_code == 422 and "A position is a whole number" in empty.text
