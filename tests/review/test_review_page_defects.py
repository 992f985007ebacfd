"""Review page details that used to go wrong: ids, a refused line comment, a refused scorecard."""

from __future__ import annotations

import re
from collections import Counter
from functools import partial

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.helpers import login, post_form, wait_for
from webapp.core.db import session_scope
from webapp.identity.models import Role
from webapp.review.models import Review, ReviewState
from webapp.submissions.models import SubmissionStatus

CODE = "from fastapi import FastAPI\n\napp = FastAPI()\n"
_post = partial(post_form, token_page="/review")


def _waiting(make_user, make_submission):
    return make_submission(make_user(email="cand@example.com"), kind="code", code=CODE, code_filename="s.py",
                           status=SubmissionStatus.graded, score=40, feedback={"kind": "tests", "tests": []},
                           review=ReviewState.requested)


def _interviewer(make_client, make_user):
    client = make_client()
    login(client, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
    return client


def test_every_id_on_the_review_page_is_unique(app, bank, make_user, make_client, make_submission) -> None:
    submission = _waiting(make_user, make_submission)
    page = _interviewer(make_client, make_user).get(f"/review/{submission.id}").text
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert "L-1" in ids and {name: n for name, n in ids.items() if n > 1} == {}


def test_an_empty_line_comment_leaves_the_line_working(app, bank, make_user, make_client, make_submission) -> None:
    submission = _waiting(make_user, make_submission)
    interviewer = _interviewer(make_client, make_user)
    refused = _post(interviewer, f"/review/{submission.id}/comments", {"line": "2", "body": " "},
                    headers={"HX-Request": "true"})
    # The form comes back in place of itself, not of the line's comment list (which the line's link targets).
    assert refused.status_code == 422 and refused.headers["HX-Retarget"] == "#comment-form-2"
    assert refused.headers["HX-Reswap"] == "outerHTML" and 'id="comment-form-2"' in refused.text
    added = _post(interviewer, f"/review/{submission.id}/comments", {"line": "2", "body": "Fine."},
                  headers={"HX-Request": "true"})
    assert added.status_code == 200 and 'id="comments-2"' in added.text and "Fine." in added.text


def test_a_refused_scorecard_claims_nothing(app, bank, make_user, make_client, make_submission) -> None:
    submission = _waiting(make_user, make_submission)
    interviewer = _interviewer(make_client, make_user)
    refused = _post(interviewer, f"/review/{submission.id}", {"action": "submit"})  # no recommendation
    assert refused.status_code == 422 and "Choose a recommendation" in refused.text
    with session_scope(app.state.db.read_session) as db:
        review = db.scalar(select(Review).where(Review.submission_id == submission.id))
        assert review.state == ReviewState.requested and review.reviewer_id is None  # still in the queue


def test_the_candidate_is_emailed_when_the_review_is_ready_unless_they_opted_out(mailing_app, inbox, bank, make_user,
                                                                                 make_submission) -> None:
    handler, _ = inbox
    wants = make_submission(make_user(email="wants@example.com"), answer_text="ASGI.", status=SubmissionStatus.graded,
                            score=40, review=ReviewState.requested)
    quiet_user = make_user(email="quiet@example.com")
    quiet = make_submission(quiet_user, answer_text="WSGI.", status=SubmissionStatus.graded, score=40,
                            review=ReviewState.requested)
    with TestClient(mailing_app) as candidate:
        login(candidate, quiet_user.email, PASSWORD)
        post_form(candidate, "/account/email", {}, token_page="/account/email")  # the box left unticked: no emails
        assert "checked" not in candidate.get("/account/email").text.split('name="review_emails"')[1][:20]
    with TestClient(mailing_app) as interviewer:
        login(interviewer, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
        for submission in (quiet, wants):
            done = _post(interviewer, f"/review/{submission.id}", {"action": "submit", "recommendation": "yes"})
            assert done.status_code == 303
    message = wait_for(lambda: handler.messages, timeout=10, message="the review-ready email")[0]
    assert message["To"] == "wants@example.com" and " ".join(message["Subject"].split()).startswith("Your answer was")
    assert f"http://testserver/submissions/{wants.id}" in message.get_payload(decode=True).decode()
    assert [m["To"] for m in handler.messages] == ["wants@example.com"]  # the quiet one's went nowhere
