"""Once a review is submitted its comments are final: the candidate has read them."""

from __future__ import annotations

import re
from functools import partial

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.core.db import session_scope
from webapp.core.errors import Conflict
from webapp.identity.models import Role, User
from webapp.review import service
from webapp.review.models import ReviewComment, ReviewState
from webapp.submissions.models import Submission, SubmissionStatus

CODE = "from fastapi import FastAPI\n\napp = FastAPI()\n"
SUBMIT = {"recommendation": "yes", "overall_comment": "Fine.", "action": "submit"}
_post = partial(post_form, token_page="/review")


@pytest.fixture
def submission(make_user, make_submission):
    return make_submission(make_user(), kind="code", code=CODE, code_filename="solution.py",
                           status=SubmissionStatus.graded, score=40, feedback={"kind": "tests", "tests": []},
                           review=ReviewState.requested)


def _body(app, comment_id: int) -> str:
    with session_scope(app.state.db.read_session) as db:
        return db.get(ReviewComment, comment_id).body


def test_the_service_refuses_to_edit_a_comment_of_a_submitted_review(app, make_user, submission):
    reviewer = make_user(Role.interviewer)
    with session_scope(app.state.db.write_session) as db:
        row, author = db.get(Submission, submission.id), db.get(User, reviewer.id)
        comment = service.add_comment(db, submission=row, author=author, line=3, body="Name the app.")
        service.edit_comment(db, comment=comment, author=author, body="Name the app, please.")  # a draft: fine
        card = service.Scorecard(ratings={}, recommendation="yes", overall_comment="", final_score="",
                                 override_reason="")
        service.save_scorecard(db, submission=row, reviewer=author, card=card, submit=True)
        with pytest.raises(Conflict, match="its comments can no longer be changed") as refused:
            service.edit_comment(db, comment=comment, author=author, body="Rewritten after the fact.")
        assert "body" in refused.value.errors
        with pytest.raises(Conflict):
            service.check_comment_editable(db, comment=comment)
        comment_id = comment.id
    assert _body(app, comment_id) == "Name the app, please."


def test_after_submitting_the_page_offers_no_edit_and_the_route_refuses_it(app, make_user, make_client,
                                                                          submission):
    interviewer = make_client()
    login(interviewer, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
    assert _post(interviewer, f"/review/{submission.id}/comments", {"line": "3", "body": "Name the app."}
                 ).status_code == 303
    draft = interviewer.get(f"/review/{submission.id}").text
    comment_id = int(re.search(r'id="comment-(\d+)"', draft).group(1))
    assert f"/review/comments/{comment_id}/edit" in draft and "Add a general comment" in draft
    assert _post(interviewer, f"/review/{submission.id}", SUBMIT).status_code == 303

    page = interviewer.get(f"/review/{submission.id}", params={"edit": comment_id}).text
    assert "Name the app." in page
    assert f"/review/comments/{comment_id}" not in page  # neither the Edit link nor the edit form
    assert "Add a general comment" not in page and "?comment_line=" not in page
    form = interviewer.get(f"/review/comments/{comment_id}/edit", headers={"HX-Request": "true"})
    assert form.status_code == 409 and "Edit your comment" not in form.text
    for headers in ({}, {"HX-Request": "true"}):
        edited = _post(interviewer, f"/review/comments/{comment_id}", {"body": "Rewritten."}, headers=headers)
        assert edited.status_code == 409, headers
        assert "its comments can no longer be changed" in edited.text
    assert _body(app, comment_id) == "Name the app."
    with session_scope(app.state.db.read_session) as db:
        assert db.scalars(select(ReviewComment.body)).all() == ["Name the app."]
