"""Interviewers claim, comment on lines, score and override; candidates see the result."""

from __future__ import annotations

import re
from functools import partial

from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.core.db import session_scope
from webapp.identity.models import Role
from webapp.review.models import Review, ReviewState
from webapp.submissions.models import Submission, SubmissionStatus

CODE = "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/')\ndef root():\n    return {'ok': True}\n"


def _graded(make_user, make_submission, *, kind="code"):
    candidate = make_user(email=f"cand-{kind}@example.com")
    row = make_submission(candidate, kind=kind, code=CODE if kind == "code" else "", code_filename="solution.py",
                          answer_text="" if kind == "code" else "An answer about ASGI.",
                          status=SubmissionStatus.graded, score=40, feedback={"kind": "tests", "tests": []},
                          review=ReviewState.requested)  # it waits in the queue
    return row, candidate


_post = partial(post_form, token_page="/review")  # every form here takes its token from /review


def _interviewer(make_client, make_user, email="iv@example.com"):
    client = make_client()
    login(client, make_user(Role.interviewer, email=email).email, PASSWORD)
    return client


def test_queue_lists_graded_submissions_oldest_first(app, bank, make_user, make_client, make_submission):
    first, _ = _graded(make_user, make_submission, kind="code")
    second, _ = _graded(make_user, make_submission, kind="text")
    interviewer = _interviewer(make_client, make_user)
    page = interviewer.get("/review").text
    assert page.index(f'/review/{first.id}"') < page.index(f'/review/{second.id}"')
    assert "cand-code@example.com" in interviewer.get("/review", params={"candidate": "cand-code@example.com"}).text
    assert f"/review/{second.id}\"" not in interviewer.get("/review",
                                                         params={"candidate": "cand-code@example.com"}).text
    assert "Nothing to review" in interviewer.get("/review", params={"min_score": 90}).text
    assert "waiting" in page
    assert interviewer.get("/review", params={"min_score": 900}).status_code == 422


def test_claims_keep_two_interviewers_apart(app, bank, make_user, make_client, make_submission):
    submission, _ = _graded(make_user, make_submission)
    alice = _interviewer(make_client, make_user, "alice@example.com")
    bob = _interviewer(make_client, make_user, "bob@example.com")
    assert _post(alice, f"/review/{submission.id}/claim").status_code == 303
    taken = _post(bob, f"/review/{submission.id}/claim")
    assert taken.status_code == 409 and "is reviewing this until" in taken.text
    assert "claimed by alice" in bob.get("/review", params={"state": "claimed"}).text


def test_expired_claim_can_be_taken_over(app, bank, make_user, make_client, make_submission):
    from datetime import timedelta

    import time_machine

    from webapp.core.db import utcnow

    submission, _ = _graded(make_user, make_submission)
    alice = _interviewer(make_client, make_user, "alice@example.com")
    bob = _interviewer(make_client, make_user, "bob@example.com")
    with time_machine.travel(utcnow(), tick=False) as clock:
        _post(alice, f"/review/{submission.id}/claim")
        clock.shift(timedelta(minutes=31))
        assert _post(bob, f"/review/{submission.id}/claim").status_code == 303
    with session_scope(app.state.db.read_session) as db:
        review = db.scalar(select(Review))
        assert review.reviewer.email == "bob@example.com"


def test_inline_comments_with_and_without_htmx(app, bank, make_user, make_client, make_submission):
    submission, _ = _graded(make_user, make_submission)
    interviewer = _interviewer(make_client, make_user)
    form = interviewer.get(f"/review/{submission.id}/comment-form", params={"line": 3},
                           headers={"HX-Request": "true"})
    assert 'name="line" value="3"' in form.text
    added = _post(interviewer, f"/review/{submission.id}/comments", {"line": "3", "body": "Name the app."},
                  headers={"HX-Request": "true"})
    assert added.status_code == 200 and 'id="comments-3"' in added.text and "Name the app." in added.text
    plain = _post(interviewer, f"/review/{submission.id}/comments", {"line": "6", "body": "Use **async**?"})
    assert plain.status_code == 303 and plain.headers["location"].endswith("#L-6")
    page = interviewer.get(f"/review/{submission.id}").text
    assert page.index("Name the app.") < page.index("<strong>async</strong>")
    bad = _post(interviewer, f"/review/{submission.id}/comments", {"line": "99", "body": "x"})
    assert bad.status_code == 422 and "between 1 and" in bad.text
    empty = _post(interviewer, f"/review/{submission.id}/comments", {"line": "2", "body": " "})
    assert empty.status_code == 422
    comment_id = re.search(r'id="comment-(\d+)"', page).group(1)
    edit_form = interviewer.get(f"/review/comments/{comment_id}/edit", headers={"HX-Request": "true"})
    assert "Edit your comment" in edit_form.text
    edited = _post(interviewer, f"/review/comments/{comment_id}", {"body": "Name the app clearly."},
                   headers={"HX-Request": "true"})
    assert "Name the app clearly." in edited.text
    other = _interviewer(make_client, make_user, "other@example.com")
    assert _post(other, f"/review/comments/{comment_id}", {"body": "hijack"}).status_code == 404


def test_override_needs_a_reason_and_candidate_sees_the_review(app, bank, make_user, make_client, make_submission):
    submission, candidate = _graded(make_user, make_submission)
    interviewer = _interviewer(make_client, make_user)
    _post(interviewer, f"/review/{submission.id}/comments", {"line": "3", "body": "Good app object."})
    no_reason = _post(interviewer, f"/review/{submission.id}", {"final_score": "70", "action": "submit",
                                                                 "recommendation": "yes"})
    assert no_reason.status_code == 422 and "Explain why you change the automatic score." in no_reason.text
    no_recommendation = _post(interviewer, f"/review/{submission.id}", {"action": "submit"})
    assert no_recommendation.status_code == 422 and "Choose a recommendation" in no_recommendation.text
    done = _post(interviewer, f"/review/{submission.id}", {
        "final_score": "70", "override_reason": "The hidden test was too strict.", "recommendation": "yes",
        "overall_comment": "Solid work.", "rating-0": "met", "action": "submit"})
    assert done.status_code == 303
    viewer = make_client()
    login(viewer, candidate.email, PASSWORD)
    assert "1 new" in viewer.get("/questions").text
    page = viewer.get(f"/submissions/{submission.id}").text
    assert "Interviewer&#39;s review" in page or "Interviewer's review" in page
    assert "Final score: <strong>70</strong>/100 (automatic: 40)" in page and "The hidden test was too strict." in page
    assert "Good app object." in page and "Solid work." in page
    assert "Strong yes" not in page and "recommendation" not in page.lower()
    assert "1 new" not in viewer.get("/questions").text  # opened, so no longer new
    history = viewer.get("/submissions").text  # My answers shows the interviewer's score, not the grader's
    assert "70 <small>(interviewer; automatic 40)</small>" in history
    assert "review.score_overridden" in _admin_audit(app, make_user, make_client)
    again = _post(interviewer, f"/review/{submission.id}/claim")
    assert again.status_code == 409 and "already been reviewed" in again.text


def _admin_audit(app, make_user, make_client) -> str:
    admin = make_client()
    login(admin, make_user(Role.admin, email="boss@example.com").email, PASSWORD)
    return admin.get("/admin/audit").text


def test_draft_is_invisible_to_the_candidate(app, bank, make_user, make_client, make_submission):
    submission, candidate = _graded(make_user, make_submission)
    interviewer = _interviewer(make_client, make_user)
    _post(interviewer, f"/review/{submission.id}/comments", {"line": "3", "body": "Draft note."})
    _post(interviewer, f"/review/{submission.id}", {"overall_comment": "Not yet.", "action": "save"})
    viewer = make_client()
    login(viewer, candidate.email, PASSWORD)
    page = viewer.get(f"/submissions/{submission.id}").text
    assert "Draft note." not in page and "Not yet." not in page
    with session_scope(app.state.db.read_session) as db:
        assert db.scalar(select(Review)).state == ReviewState.in_progress


def test_candidates_cannot_review(candidate_client, app, bank, make_user, make_submission):
    submission, _ = _graded(make_user, make_submission)
    assert candidate_client.get("/review").status_code == 403
    assert candidate_client.get(f"/review/{submission.id}").status_code == 403


def test_assessment_answers_are_only_for_the_assessments_interviewer(app, bank, make_user, make_client,
                                                                     make_submission):
    from webapp.assessments.models import Assessment, AssessmentAttempt, AssessmentQuestion

    submission, candidate = _graded(make_user, make_submission, kind="text")
    runner = make_user(Role.interviewer, email="runner@example.com")
    with session_scope(app.state.db.write_session) as db:
        assessment = Assessment(title="Screen", owner_id=runner.id, time_limit_minutes=30, invite_code="c0de",
                                items=[AssessmentQuestion(question_id=submission.question_id, position=1)])
        db.add(assessment)
        db.flush()
        attempt = AssessmentAttempt(assessment_id=assessment.id, candidate_id=candidate.id)
        db.add(attempt)
        db.flush()
        db.get(Submission, submission.id).attempt_id = attempt.id
    outsider = _interviewer(make_client, make_user, "outsider@example.com")
    assert outsider.get(f"/review/{submission.id}").status_code == 404
    assert outsider.get(f"/submissions/{submission.id}").status_code == 404
    assert f"/review/{submission.id}\"" not in outsider.get("/review").text
    owner = make_client()
    login(owner, "runner@example.com", PASSWORD)
    assert owner.get(f"/review/{submission.id}").status_code == 200
    assert f"/review/{submission.id}\"" in owner.get("/review").text


def test_candidate_asks_for_a_review_of_a_practice_answer(app, bank, make_user, make_client, make_submission):
    candidate = make_user(email="asker@example.com")
    row = make_submission(candidate, answer_text="ASGI.", status=SubmissionStatus.graded, score=30)
    interviewer = _interviewer(make_client, make_user)
    assert f"/review/{row.id}\"" not in interviewer.get("/review").text  # practice answers are not queued by default
    browser = make_client()
    login(browser, candidate.email, PASSWORD)
    page = browser.get(f"/submissions/{row.id}").text
    assert "Ask an interviewer to review this answer" in page
    asked = post_form(browser, f"/submissions/{row.id}/review-request", token_page="/")
    assert asked.status_code == 303
    assert "An interviewer will review this answer" in browser.get(f"/submissions/{row.id}").text
    assert f"/review/{row.id}\"" in interviewer.get("/review").text
    assert post_form(interviewer, f"/submissions/{row.id}/review-request", token_page="/").status_code == 404
