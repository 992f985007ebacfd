"""Grader calibration: interviewers' scorecards against the grader's verdicts, and one-click examples."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.audit.models import AuditEvent
from webapp.core.db import session_scope
from webapp.identity.models import Role
from webapp.questions.curation import get_question
from webapp.review.models import Review, ReviewState
from webapp.submissions.models import Submission, SubmissionStatus


def _interviewer(make_client, make_user):
    client = make_client()
    login(client, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
    return client


def _reviewed_answer(app, bank, answer, candidate_client, drain, interviewer, *, text, ratings, final=None):
    spec = next(q for q in bank.questions if q.kind == "text")
    assert answer(spec.slug, answer=text).status_code == 303
    drain()
    with session_scope(app.state.db.read_session) as db:
        submission = db.scalars(select(Submission).order_by(Submission.id.desc())).first()
        submission_id, score = submission.id, submission.score
    assert post_form(candidate_client, f"/submissions/{submission_id}/review-request",
                     token_page=f"/submissions/{submission_id}").status_code in (200, 303)
    data = {f"rating-{i}": r for i, r in enumerate(ratings)} | {"recommendation": "yes", "action": "submit"}
    if final is not None:
        data |= {"final_score": str(final), "override_reason": "The grader missed the contradiction."}
    assert post_form(interviewer, f"/review/{submission_id}", data, token_page="/review").status_code == 303
    return spec, submission_id, score


def test_agreement_page_and_one_click_calibration_example(app, bank, answer, candidate_client, drain,
                                                           make_user, make_client, admin_client):
    interviewer = _interviewer(make_client, make_user)
    spec = next(q for q in bank.questions if q.kind == "text")
    strong = next(c.answer for c in spec.calibration if c.expect == "strong")
    _reviewed_answer(app, bank, answer, candidate_client, drain, interviewer, text=strong,
                     ratings=["met"] * len(spec.rubric))
    _, disputed, grader_score = _reviewed_answer(
        app, bank, answer, candidate_client, drain, interviewer,
        text=strong + " Honestly though, none of this is true.", ratings=["wrong"] * len(spec.rubric), final=5)
    overview = admin_client.get("/admin/calibration")
    assert overview.status_code == 200 and spec.title in overview.text
    with session_scope(app.state.db.read_session) as db:
        question = get_question(db, slug=spec.slug)
        question_id, revision_before = question.id, question.current_revision.number
    detail = admin_client.get(f"/admin/calibration/{question_id}").text
    assert "2 reviewed answer(s)" in detail and f"#{disputed}" in detail
    assert detail.index(f"#{disputed}") < detail.index("Make it a calibration example")
    assert "Same verdict" in detail

    added = post_form(admin_client, "/admin/calibration/examples", {"submission_id": str(disputed)},
                      token_page="/admin/calibration")
    assert added.status_code == 303
    with session_scope(app.state.db.read_session) as db:
        question = get_question(db, slug=spec.slug)
        assert question.current_revision.number == revision_before + 1
        example = question.current_revision.calibration[-1]
        assert example.answer.endswith("none of this is true.") and example.expect == "wrong"
        assert example.at_most == 20 and f"grader {grader_score}" in example.note
        assert db.scalar(select(AuditEvent).where(AuditEvent.action == "grader.calibration_example")) is not None
        review = db.scalar(select(Review).where(Review.submission_id == disputed))
        assert review.grader_score == grader_score and len(review.grader_verdicts) == len(spec.rubric)
        assert set(review.grader_verdicts) <= {"met", "partly", "missed", "contradicted"}
    again = post_form(admin_client, "/admin/calibration/examples", {"submission_id": str(disputed)},
                      token_page="/admin/calibration")
    assert again.status_code == 409 and "already a calibration example" in again.text
    missing = post_form(admin_client, "/admin/calibration/examples", {"submission_id": "999999"},
                        token_page="/admin/calibration")
    assert missing.status_code == 404
    assert interviewer.get("/admin/calibration", follow_redirects=False).status_code in (303, 403)
    assert admin_client.get("/admin/calibration/999999").status_code == 404


def test_provisional_grades_come_first_in_the_review_queue(app, bank, make_user, make_client, make_submission,
                                                           monkeypatch):
    candidate = make_user(email="cand@example.com")
    ids = [make_submission(candidate, answer_text="An answer.", status=SubmissionStatus.graded, score=50,
                           feedback={"kind": "rubric", "points": [], "provisional": provisional},
                           provisional=provisional, review=ReviewState.requested).id
           for provisional in (False, True, False)]
    interviewer = _interviewer(make_client, make_user)
    page = interviewer.get("/review").text
    order = sorted(ids, key=lambda i: page.index(f'/review/{i}"'))
    assert order == [ids[1], ids[0], ids[2]] and "provisional" in page
    monkeypatch.setattr("webapp.review.queue.PER_PAGE", 1)  # the keyset cursor carries the provisional flag
    seen, path = [], "/review"
    while path:
        page = interviewer.get(path).text
        seen += [i for i in ids if f'/review/{i}"' in page]
        more = re.search(r'href="(/review\?[^"]+)" rel="next"', page)
        path = html.unescape(more.group(1)) if more else ""
    assert seen == [ids[1], ids[0], ids[2]]


def test_a_grade_marked_provisional_by_the_grader_is_stored_so(app, bank, answer, drain):
    spec = next(q for q in bank.questions if q.kind == "text")
    strong = next(c.answer for c in spec.calibration if c.expect == "strong")
    assert answer(spec.slug, answer=strong).status_code == 303
    drain()
    with session_scope(app.state.db.read_session) as db:
        submission = db.scalars(select(Submission).order_by(Submission.id.desc())).first()
        assert submission.provisional == submission.feedback["provisional"]
        assert 0 <= submission.feedback["confidence"] <= 1
