"""The interviewer's report and review show every answer to each question, in order, with its times."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial

import time_machine
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.core.db import session_scope, utcnow
from webapp.identity.models import Role
from webapp.submissions.models import Submission

_post = partial(post_form, token_page="/assessments")  # every form here takes its token from /assessments


def submission_ids(app) -> list[int]:
    with session_scope(app.state.db.read_session) as db:
        return list(db.scalars(select(Submission.id).order_by(Submission.id)))


def test_report_and_review_list_every_answer_with_times(make_user, make_client, bank, app, drain):
    interviewer, candidate = make_client(), make_client()
    login(interviewer, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
    login(candidate, make_user(email="cand@example.com").email, PASSWORD)
    text, other = [q for q in bank.questions if q.kind == "text"][:2]
    created = _post(interviewer, "/assessments/new", {"title": "Screen", "time_limit": "60",
                                                      "questions": [text.slug, other.slug]})
    assessment = int(created.headers["location"].rsplit("/", 1)[1])
    _post(interviewer, f"/assessments/{assessment}/invite", {"emails": "cand@example.com"})
    attempt = int(re.search(r"/assessments/take/(\d+)", candidate.get("/assessments").text).group(1))
    start = utcnow().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        _post(candidate, f"/assessments/take/{attempt}/start")
        for minutes, words in [(3, "A first, short try."), (9, "A second try that explains ASGI and Pydantic.")]:
            clock.move_to(start + timedelta(minutes=minutes))
            sent = _post(candidate, f"/questions/{text.slug}/submissions", {"answer": words, "attempt": str(attempt)})
            assert sent.status_code == 303
        clock.move_to(start + timedelta(minutes=10))
        drain()
        report = interviewer.get(f"/assessments/{assessment}/report/{attempt}").text
        review = interviewer.get(f"/review/{submission_ids(app)[1]}").text
        opened = [interviewer.get(f"/submissions/{i}", follow_redirects=False).status_code for i in submission_ids(app)]
    with session_scope(app.state.db.read_session) as db:
        first, second = db.scalars(select(Submission).order_by(Submission.id))
    answers = re.findall(r'<a href="/submissions/(\d+)">Answer (\d)</a>\s*· submitted <time datetime="([^"]+)"',
                         report)
    assert answers == [(str(first.id), "1", first.queued_at.isoformat()),
                       (str(second.id), "2", second.queued_at.isoformat())]
    assert f"{start + timedelta(minutes=3):%Y-%m-%d %H:%M:%S}" in report
    assert f"{start + timedelta(minutes=9):%Y-%m-%d %H:%M:%S}" in report
    assert report.count("graded <time") == 2 and f"{start + timedelta(minutes=10):%H:%M:%S}" in report
    assert f'href="/review/{first.id}"' in report and f'href="/review/{second.id}"' in report
    assert "not answered" in report  # the other question
    assert opened == [200, 200]  # each link opens for the interviewer
    # The review page of the last answer lists them too.
    assert "Every answer to this question in the assessment" in review
    assert f'<a href="/submissions/{first.id}">Answer 1</a>' in review and "<strong>this answer</strong>" in review
    listed = review[review.index("Every answer to this question in the assessment"):]
    assert listed.index(first.queued_at.isoformat()) < listed.index(second.queued_at.isoformat())
    assert "Other answers by this candidate" not in review  # no duplicates of the list above
