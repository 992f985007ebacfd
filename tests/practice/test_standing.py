"""A candidate sees where they stand on every question (new, attempted, solved, best score), from
their practice answers only, and can filter the list by it."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD
from tests.helpers import login
from tests.submissions.test_page_queries import _assessment_answers
from webapp.submissions.models import SubmissionStatus


def _slugs(html: str) -> list[str]:
    return re.findall(r'<a href="/questions/([a-z0-9-]+)"><strong>', html)


def _answered(make_submission, user, bank, kind: str, score: int, **columns):
    return make_submission(user, kind=kind, answer_text="An answer.", status=SubmissionStatus.graded, score=score,
                           **columns)


def test_the_list_and_the_question_show_the_standing_and_filter_by_it(app, bank, make_user, make_client,
                                                                       make_submission) -> None:
    candidate = make_user(email="cand@example.com")
    client = make_client()
    login(client, candidate.email, PASSWORD)
    text = next(q for q in bank.questions if q.kind == "text")
    choice = next(q for q in bank.questions if q.kind == "choice")
    _answered(make_submission, candidate, bank, "text", 40)
    _answered(make_submission, candidate, bank, "text", 85)  # a written answer at 80 or more is solved
    _answered(make_submission, candidate, bank, "choice", 50)  # a choice question needs 100
    listed = client.get("/questions").text
    assert re.search(rf'/questions/{text.slug}"><strong>[^<]+</strong></a>\s*<span class="badge standing-solved">'
                     r"solved · best 85</span>", listed)
    assert re.search(rf'/questions/{choice.slug}"><strong>[^<]+</strong></a>\s*<span class="badge '
                     r'standing-attempted">attempted · best 50</span>', listed)
    assert _slugs(client.get("/questions?mine=solved").text) == [text.slug]
    assert _slugs(client.get("/questions?mine=attempted").text) == [choice.slug]
    new = _slugs(client.get("/questions?mine=new").text)
    assert text.slug not in new and choice.slug not in new and len(new) == len(bank.questions) - 2
    page = client.get(f"/questions/{text.slug}").text
    assert "Solved: 2 practice answers, best score 85/100." in page
    visitor = make_client()  # no standing for a visitor: the filter is ignored, not an error
    assert len(_slugs(visitor.get("/questions?mine=solved").text)) == len(bank.questions)


def test_assessment_answers_never_count(app, bank, make_user, make_client, make_submission) -> None:
    candidate = make_user(email="cand@example.com")
    client = make_client()
    login(client, candidate.email, PASSWORD)
    _assessment_answers(app, make_user, make_submission, candidate, 1)  # graded 60, feedback may be withheld
    assert "standing-" not in client.get("/questions").text
