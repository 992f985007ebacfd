"""Interviewers build assessments and invite candidates; the deadline is the server's."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from functools import partial

import time_machine
from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.helpers import login, post_form, wait_for
from webapp.core.db import utcnow
from webapp.identity.models import Role

_post = partial(post_form, token_page="/assessments")  # every form here takes its token from /assessments


def _people(make_user, make_client):
    interviewer, candidate = make_client(), make_client()
    login(interviewer, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
    login(candidate, make_user(email="cand@example.com").email, PASSWORD)
    return interviewer, candidate


def _build(interviewer, bank, minutes="30"):
    text = next(q for q in bank.questions if q.kind == "text")
    choice = next(q for q in bank.questions if q.kind == "choice" and not q.multiple)
    response = _post(interviewer, "/assessments/new", {"title": "Backend screen", "time_limit": minutes,
                                                        "questions": [text.slug, choice.slug]})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1]), text, choice


def _attempt_id(client) -> int:
    return int(re.search(r"/assessments/take/(\d+)", client.get("/assessments").text).group(1))


def test_builder_validates(make_user, make_client, bank):
    interviewer, candidate = _people(make_user, make_client)
    bad = _post(interviewer, "/assessments/new", {"title": "", "time_limit": "2", "questions": ["no-such"]})
    assert bad.status_code == 422
    assert "Give the assessment a title." in bad.text and "from 5 to 480" in bad.text and "Not published" in bad.text
    assert candidate.get("/assessments/new").status_code == 403


def test_invite_take_answer_and_report(make_user, make_client, bank, app):
    interviewer, candidate = _people(make_user, make_client)
    assessment_id, text, choice = _build(interviewer, bank)
    unknown = _post(interviewer, f"/assessments/{assessment_id}/invite",
                    {"emails": "cand@example.com, ghost@example.com"})
    assert unknown.status_code == 422 and "ghost@example.com" in unknown.text
    assert _post(interviewer, f"/assessments/{assessment_id}/invite", {"emails": "CAND@example.com"}).status_code == 303
    assert "not started" in interviewer.get(f"/assessments/{assessment_id}").text
    attempt = _attempt_id(candidate)
    assert candidate.get(f"/assessments/take/{attempt}/questions/1").status_code == 404  # not started yet
    _post(candidate, f"/assessments/take/{attempt}/start")
    page = candidate.get(f"/assessments/take/{attempt}").text
    assert "data-deadline=" in page and "in progress" in page
    assert 'data-confirm="2 questions not answered yet. Submit anyway?' in page  # asked before submitting
    question_page = candidate.get(f"/assessments/take/{attempt}/questions/1").text
    assert f'name="attempt" value="{attempt}"' in question_page
    answered = _post(candidate, f"/questions/{text.slug}/submissions", {
        "answer": "FastAPI runs on ASGI with Starlette and validates with Pydantic.", "attempt": str(attempt)})
    assert answered.status_code == 303 and answered.headers["location"] == f"/assessments/take/{attempt}"
    assert 'data-confirm="1 question not answered yet.' in candidate.get(f"/assessments/take/{attempt}").text
    reopened = candidate.get(f"/assessments/take/{attempt}/questions/1").text  # the answer sent, not an empty box
    assert "FastAPI runs on ASGI with Starlette and validates with Pydantic.</textarea>" in reopened
    other = next(q.slug for q in bank.questions if q.slug not in (text.slug, choice.slug) and q.kind == "text")
    wrong_question = _post(candidate, f"/questions/{other}/submissions",
                           {"answer": "x y z", "attempt": str(attempt)})
    assert wrong_question.status_code == 409 and "not part of the assessment" in wrong_question.text
    while app.state.grader.process_one():
        pass
    _post(candidate, f"/assessments/take/{attempt}/submit")
    assert "submitted" in interviewer.get(f"/assessments/{assessment_id}").text
    report = interviewer.get(f"/assessments/{assessment_id}/report/{attempt}").text
    assert re.search(r"Time used: \d+:\d\d of \d+:00\.", report), "time used reads as a clock"
    assert "Time used:" in report and "not answered" in report and re.search(r'href="/review/\d+"', report)
    exported = interviewer.get(f"/assessments/{assessment_id}/results.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["candidate_email"], r["position"], r["status"]) for r in table] == [
        ("cand@example.com", "1", "submitted"), ("cand@example.com", "2", "submitted")]
    assert table[0]["answers"] == "1" and table[0]["grading"] == "graded" and table[1]["grading"] == "not answered"
    assert candidate.get(f"/assessments/{assessment_id}/results.csv").status_code == 403
    closed = _post(candidate, f"/questions/{text.slug}/submissions",
                   {"answer": "Another try.", "attempt": str(attempt)})
    assert closed.status_code == 409 and "already submitted" in closed.text


def test_deadline_is_enforced_on_the_server(make_user, make_client, bank):
    interviewer, candidate = _people(make_user, make_client)
    assessment_id, text, _ = _build(interviewer, bank, minutes="10")
    _post(interviewer, f"/assessments/{assessment_id}/invite", {"emails": "cand@example.com"})
    attempt = _attempt_id(candidate)
    with time_machine.travel(utcnow(), tick=False) as clock:
        _post(candidate, f"/assessments/take/{attempt}/start")
        clock.shift(timedelta(minutes=9))
        _post(candidate, f"/assessments/take/{attempt}/start")  # starting again does not move the deadline
        clock.shift(timedelta(minutes=2))
        late = _post(candidate, f"/questions/{text.slug}/submissions",
                     {"answer": "A late answer about ASGI.", "attempt": str(attempt)})
        assert late.status_code == 409 and "Time is up" in late.text
        assert "expired" in interviewer.get(f"/assessments/{assessment_id}").text
        assert candidate.get(f"/assessments/take/{attempt}/questions/1").status_code == 404


def test_join_by_code_and_privacy(make_user, make_client, bank):
    interviewer, candidate = _people(make_user, make_client)
    assessment_id, _, _ = _build(interviewer, bank)
    page = interviewer.get(f"/assessments/{assessment_id}").text
    code = re.search(r'<code class="one-time">([^<]+)</code>', page).group(1)
    assert _post(candidate, "/assessments/join", {"code": "nope"}).status_code == 404
    joined = _post(candidate, "/assessments/join", {"code": code})
    attempt = int(joined.headers["location"].rsplit("/", 1)[1])
    other_candidate = make_client()
    login(other_candidate, make_user(email="other@example.com").email, PASSWORD)
    assert other_candidate.get(f"/assessments/take/{attempt}").status_code == 404
    other_interviewer = make_client()
    login(other_interviewer, make_user(Role.interviewer, email="iv2@example.com").email, PASSWORD)
    assert other_interviewer.get(f"/assessments/{assessment_id}").status_code == 404
    assert other_interviewer.get(f"/assessments/{assessment_id}/report/{attempt}").status_code == 404
    assert candidate.get(f"/assessments/{assessment_id}").status_code == 403


def test_exported_cells_never_start_a_formula() -> None:
    from webapp.submissions.report_export import spreadsheet_safe

    assert [spreadsheet_safe(v) for v in ("=HYPERLINK(\"x\")", "+1", "-2", "@a", "Ada", 7)] == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@a", "Ada", 7]


def test_an_invitation_is_emailed_with_the_link(mailing_app, inbox, bank, make_user) -> None:
    handler, _ = inbox
    make_user(email="cand@example.com")
    with TestClient(mailing_app) as interviewer:
        login(interviewer, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
        token_page = "/assessments/new"
        builder = interviewer.get(token_page).text
        question = re.search(r'name="add" value="([a-z0-9-]+)"', builder).group(1)  # the first match offered
        created = post_form(interviewer, "/assessments/new", {"title": "Screen", "time_limit": "30",
                                                              "questions": [question]}, token_page=token_page)
        path = created.headers["location"]
        invited = post_form(interviewer, f"{path}/invite", {"emails": "cand@example.com"}, token_page=path)
        assert invited.status_code == 303
        message = wait_for(lambda: handler.messages, timeout=10, message="the invitation email")[0]
    body = message.get_payload(decode=True).decode()
    assert message["To"] == "cand@example.com" and message["Subject"] == "You are invited: Screen"
    assert re.search(r"http://testserver/assessments/take/\d+", body) and "30 minutes" in body
