"""Assessments give nothing away while they run; afterwards candidates see what the interviewer chose.

Every check is on the pages a candidate can reach, with the real strings of shipped questions:
their model answers, rubric hints, choice explanations and hidden test names.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from functools import partial

import pytest
import time_machine
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.assessments.models import AssessmentAttempt
from webapp.audit.models import AuditEvent
from webapp.core.db import session_scope, utcnow
from webapp.identity.models import Role
from webapp.practice.models import PracticeCard
from webapp.submissions.models import Submission

CODE_SLUG = "pydantic-signup-validators"
JUNK = "I am not sure, sorry."


_post = partial(post_form, token_page="/assessments")  # every form here takes its token from /assessments


def _fragment(markdown: str) -> str:
    """A run of plain words from a model answer: it survives markdown rendering unchanged."""
    return max(re.findall(r"[A-Za-z][A-Za-z ,]{30,}[A-Za-z]", markdown), key=len)


@pytest.fixture
def questions(bank):
    """A written, a single-choice and a code question of the shipped bank."""
    text = next(q for q in bank.questions if q.kind == "text" and q.rubric and q.reference_answer)
    choice = next(q for q in bank.questions if q.kind == "choice" and not q.multiple and q.reference_answer)
    code = next(q for q in bank.questions if q.slug == CODE_SLUG)
    return {"text": text, "choice": choice, "code": code}


def _secrets(questions) -> list[str]:
    """What a candidate must not see while an assessment runs: grading and the questions' answers."""
    text, choice, code = questions["text"], questions["choice"], questions["code"]
    tests = re.findall(r"def (test_\w+)", code.hidden_tests)
    found = [_fragment(q.reference_answer) for q in (text, choice, code)]
    found += [point.hint for point in text.rubric if point.hint]
    found += [c.explanation[:60] for c in choice.choices if c.explanation]
    found += tests + [t.removeprefix("test_").replace("_", " ") for t in tests]
    found += ['class="score"', "Score:", "/100", "Model answer", "✗ Missed", "✓ Met", "Provisional grade", "You wrote",
              "Hint:", "Not quite.", "tests passed", "Wrong answer", "What went wrong", "incorrect"]
    for q in questions.values():  # the check would be void if the question page itself showed these
        assert not any(s in q.prompt for s in found[:3]), q.slug
    return found


def _leaks(page: str, secrets: list[str]) -> list[str]:
    text = html.unescape(page)
    return [s for s in secrets if s in text]


def _people(make_user, make_client):
    interviewer, candidate = make_client(), make_client()
    login(interviewer, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
    login(candidate, make_user(email="cand@example.com").email, PASSWORD)
    return interviewer, candidate


def _running(interviewer, candidate, questions, feedback="score", minutes="30"):
    """An assessment of the three questions, the candidate invited and started; returns (assessment, attempt)."""
    created = _post(interviewer, "/assessments/new", {
        "title": "Backend screen", "time_limit": minutes, "candidate_feedback": feedback,
        "questions": [questions["text"].slug, questions["choice"].slug, questions["code"].slug]})
    assert created.status_code == 303, created.text
    assessment = int(created.headers["location"].rsplit("/", 1)[1])
    assert _post(interviewer, f"/assessments/{assessment}/invite", {"emails": "cand@example.com"}).status_code == 303
    attempt = int(re.search(r"/assessments/take/(\d+)", candidate.get("/assessments").text).group(1))
    assert _post(candidate, f"/assessments/take/{attempt}/start").status_code == 303
    return assessment, attempt


def _answer_junk(candidate, questions, attempt, drain) -> list[int]:
    """Wrong answers to all three questions, graded; returns their submission ids."""
    wrong_choice = next(c.id for c in questions["choice"].choices if not c.correct)
    fields = [(questions["text"].slug, {"answer": JUNK}), (questions["choice"].slug, {"choice": wrong_choice}),
              (CODE_SLUG, {"code": questions["code"].wrong_solutions[0].code})]
    for slug, data in fields:
        sent = _post(candidate, f"/questions/{slug}/submissions", {**data, "attempt": str(attempt)},
                     headers={"HX-Request": "true"})
        assert sent.status_code == 200 and sent.headers["HX-Redirect"] == f"/assessments/take/{attempt}"
        assert sent.text == ""
    assert drain() == 4  # three grades, and the code answer compared with the others
    return [int(i) for i in re.findall(r'href="/submissions/(\d+)"', candidate.get("/submissions").text)][::-1]


def _candidate_pages(candidate, attempt, ids) -> dict[str, str]:
    pages = {path: candidate.get(path).text for path in (
        "/", "/progress", "/practice", "/submissions", "/submissions?status=graded", "/assessments",
        f"/assessments/take/{attempt}")}
    for position in (1, 2, 3):
        path = f"/assessments/take/{attempt}/questions/{position}"
        pages[path] = candidate.get(path).text
    for submission_id in ids:
        pages[f"/submissions/{submission_id}"] = candidate.get(f"/submissions/{submission_id}").text
        status = f"/submissions/{submission_id}/status"
        pages[status] = candidate.get(status, headers={"HX-Request": "true"}).text
    return pages


@pytest.mark.sandbox
def test_a_running_assessment_gives_nothing_away(make_user, make_client, questions, drain, app):
    secrets = _secrets(questions)
    interviewer, candidate = _people(make_user, make_client)
    _, attempt = _running(interviewer, candidate, questions, feedback="full")
    ids = _answer_junk(candidate, questions, attempt, drain)
    with session_scope(app.state.db.read_session) as db:  # graded for real, with feedback to give away
        graded = list(db.scalars(select(Submission).order_by(Submission.id)))
        assert [s.status.value for s in graded] == ["graded"] * 3 and graded[2].feedback["verdict"] == "wrong_answer"
    pages = _candidate_pages(candidate, attempt, ids)
    assert {path: _leaks(page, secrets) for path, page in pages.items() if _leaks(page, secrets)} == {}
    answer_page = pages[f"/submissions/{ids[0]}"]
    assert "Answer received" in answer_page and "not shown while the assessment runs" in answer_page
    assert JUNK in answer_page and "Back to the assessment" in answer_page  # their own words, nothing more
    assert "Your code" in pages[f"/submissions/{ids[2]}"]
    assert "not shown" in pages["/submissions"] and "answered" in pages[f"/assessments/take/{attempt}"]
    assert "Recent feedback" not in pages["/progress"]
    # The review request button (and an interviewer's finished review) stay away too.
    assert "review-request" not in answer_page
    refused = post_form(candidate, f"/submissions/{ids[0]}/review-request", token_page="/submissions")
    assert refused.status_code == 409
    # Nor does the practice schedule move: "due tomorrow" would say the score was low.
    with session_scope(app.state.db.read_session) as db:
        assert db.scalar(select(func.count()).select_from(PracticeCard)) == 0
    # The interviewer sees everything.
    review = html.unescape(interviewer.get(f"/review/{ids[0]}").text)
    assert _fragment(questions["text"].reference_answer) in review and "✗ Missed" in review


def test_no_practice_answers_to_a_question_of_the_running_assessment(make_user, make_client, questions, bank):
    interviewer, candidate = _people(make_user, make_client)
    _, attempt = _running(interviewer, candidate, questions)
    slug = questions["text"].slug
    refused = _post(candidate, f"/questions/{slug}/submissions", {"answer": JUNK})
    assert refused.status_code == 409 and "answer it there" in html.unescape(refused.text)
    other = next(q.slug for q in bank.questions if q.kind == "text" and q.slug != slug)
    assert _post(candidate, f"/questions/{other}/submissions", {"answer": JUNK}).status_code == 303
    _post(candidate, f"/assessments/take/{attempt}/submit")
    assert _post(candidate, f"/questions/{slug}/submissions", {"answer": JUNK}).status_code == 303


def _ended(setting, make_user, make_client, questions, drain, *, expire=False):
    interviewer, candidate = _people(make_user, make_client)
    _, attempt = _running(interviewer, candidate, questions, feedback=setting, minutes="10")
    ids = _answer_junk(candidate, questions, attempt, drain)
    if not expire:
        assert _post(candidate, f"/assessments/take/{attempt}/submit").status_code == 303
    return candidate, attempt, ids


@pytest.mark.parametrize("expire", [False, True], ids=["submitted", "deadline passed"])
@pytest.mark.sandbox
def test_after_the_end_nothing_means_only_received(make_user, make_client, questions, drain, expire):
    secrets = _secrets(questions)
    candidate, attempt, ids = _ended("nothing", make_user, make_client, questions, drain, expire=expire)
    with time_machine.travel(utcnow() + timedelta(minutes=11 if expire else 0)):
        pages = _candidate_pages(candidate, attempt, ids[:0]) | {
            f"/submissions/{i}": candidate.get(f"/submissions/{i}").text for i in ids}
        assert ("expired" if expire else "submitted") in pages[f"/assessments/take/{attempt}"]
    assert {path: _leaks(page, secrets) for path, page in pages.items() if _leaks(page, secrets)} == {}
    assert "does not share the grades" in pages[f"/submissions/{ids[0]}"]


@pytest.mark.sandbox
def test_after_the_end_score_means_the_score_only(make_user, make_client, questions, drain, app):
    secrets = [s for s in _secrets(questions) if s not in ('class="score"', "Score:", "/100")]
    candidate, attempt, ids = _ended("score", make_user, make_client, questions, drain)
    with session_scope(app.state.db.read_session) as db:
        scores = {s.id: s.score for s in db.scalars(select(Submission))}
    for submission_id in ids:
        page = candidate.get(f"/submissions/{submission_id}").text
        assert f'Score: <span class="score">{scores[submission_id]}</span>/100' in page
        assert _leaks(page, secrets) == [] and "shares only the score" in page
    take = candidate.get(f"/assessments/take/{attempt}").text
    assert f"{scores[ids[2]]}/100" in take and _leaks(take, secrets) == []
    listing = candidate.get("/submissions").text
    assert "not shown" not in listing and _leaks(listing, secrets) == []
    assert "Recent feedback" in candidate.get("/progress").text


@pytest.mark.sandbox
def test_after_the_end_full_means_the_feedback_of_practice(make_user, make_client, questions, drain):
    candidate, attempt, ids = _ended("full", make_user, make_client, questions, drain)
    text_page, choice_page, code_page = (html.unescape(candidate.get(f"/submissions/{i}").text) for i in ids)
    assert "Model answer" in text_page and _fragment(questions["text"].reference_answer) in text_page
    assert all(p.hint in text_page for p in questions["text"].rubric if p.hint)
    assert all(c.explanation[:60] in choice_page for c in questions["choice"].choices if c.explanation)
    first_test = re.findall(r"def test_(\w+)", questions["code"].hidden_tests)[0].replace("_", " ")
    assert ("Wrong answer" in code_page or "Error" in code_page) and first_test in code_page
    assert "Score:" in text_page and "Answer received" not in text_page


def test_the_interviewer_changes_the_setting_afterwards(make_user, make_client, questions, drain, app):
    interviewer, candidate = _people(make_user, make_client)
    assessment, attempt = _running(interviewer, candidate, questions, feedback="nothing")
    detail = interviewer.get(f"/assessments/{assessment}").text
    assert "Nothing: only that each answer was received</strong>" in detail
    bad = _post(interviewer, f"/assessments/{assessment}/feedback", {"candidate_feedback": "everything"})
    assert bad.status_code == 422 and "Choose what candidates see" in bad.text
    _post(candidate, f"/questions/{questions['text'].slug}/submissions", {"answer": JUNK, "attempt": str(attempt)})
    drain()
    _post(candidate, f"/assessments/take/{attempt}/submit")
    submission_id = re.search(r'href="/submissions/(\d+)"', candidate.get("/submissions").text).group(1)
    assert "Model answer" not in candidate.get(f"/submissions/{submission_id}").text
    changed = _post(interviewer, f"/assessments/{assessment}/feedback", {"candidate_feedback": "full"})
    assert changed.status_code == 303
    assert "Full feedback, as in practice</strong>" in interviewer.get(f"/assessments/{assessment}").text
    assert "Model answer" in candidate.get(f"/submissions/{submission_id}").text
    with session_scope(app.state.db.read_session) as db:
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.feedback_changed"))
        assert event.details == {"before": "nothing", "after": "full"}
    other = make_client()
    login(other, make_user(Role.interviewer, email="iv2@example.com").email, PASSWORD)
    assert _post(other, f"/assessments/{assessment}/feedback", {"candidate_feedback": "nothing"}).status_code == 404
    assert _post(candidate, f"/assessments/{assessment}/feedback", {"candidate_feedback": "full"}).status_code == 403
    no_token = interviewer.post(f"/assessments/{assessment}/feedback", data={"candidate_feedback": "nothing"},
                                follow_redirects=False)
    assert no_token.status_code == 403


def test_the_builder_offers_the_setting_and_defaults_to_score(make_user, make_client, questions, app):
    interviewer, _ = _people(make_user, make_client)
    form = interviewer.get("/assessments/new").text
    assert 'name="candidate_feedback" value="score" checked' in form
    bad = _post(interviewer, "/assessments/new", {"title": "X", "time_limit": "30", "candidate_feedback": "all",
                                                  "questions": [questions["text"].slug]})
    assert bad.status_code == 422 and "Choose what candidates see" in bad.text
    made = _post(interviewer, "/assessments/new", {"title": "X", "time_limit": "30",
                                                   "questions": [questions["text"].slug]})
    assert "The score only</strong>" in interviewer.get(made.headers["location"]).text


def test_a_mock_hides_feedback_while_it_runs_and_shows_it_all_after(candidate_client, questions, drain, app,
                                                                     make_user, make_client):
    started = _post(candidate_client, "/practice/mock", {"length": "3", "minutes": "15"})
    attempt = int(started.headers["location"].rsplit("/", 1)[1])
    question_page = candidate_client.get(f"/assessments/take/{attempt}/questions/1").text
    slug = re.search(r'action="/questions/([a-z0-9-]+)/submissions"', question_page).group(1)
    _post(candidate_client, f"/questions/{slug}/submissions",
          {"answer": JUNK, "choice": "zzz", "code": "x = 1", "attempt": str(attempt)})
    _post(candidate_client, f"/questions/{slug}/submissions",
          {"answer": JUNK, "choice": "a", "code": "x = 1", "attempt": str(attempt)})
    drain()
    submission_id = re.search(r'href="/submissions/(\d+)"', candidate_client.get("/submissions").text).group(1)
    running = candidate_client.get(f"/submissions/{submission_id}").text
    summary = candidate_client.get(f"/practice/mock/{attempt}").text
    assert "Answer received" in running
    assert "while the mock interview runs; once it ends you will see full feedback" in running
    assert "Model answer" not in running and 'class="score"' not in running
    assert "Total:" not in summary and "weakest" not in summary and "answered" in summary
    _post(candidate_client, f"/assessments/take/{attempt}/submit")
    after = candidate_client.get(f"/submissions/{submission_id}").text
    assert 'class="score"' in after and "Answer received" not in after
    assert "Total:" in candidate_client.get(f"/practice/mock/{attempt}").text
    # Staff see a mock's report without the integrity columns: a mock is neither compared nor watched.
    with session_scope(app.state.db.read_session) as db:
        assessment = db.get(AssessmentAttempt, attempt).assessment_id
    admin = make_client()
    login(admin, make_user(Role.admin).email, PASSWORD)
    report = admin.get(f"/assessments/{assessment}/report/{attempt}")
    assert report.status_code == 200 and "Total:" in report.text
    assert "Similar code" not in report.text and "Waiting for a grader" not in report.text
    assert "How it came about" not in report.text


def test_practice_feedback_is_unchanged(answer, candidate_client, questions, drain, app):
    text = questions["text"]
    sent = answer(text.slug, answer=JUNK)
    drain()
    page = html.unescape(candidate_client.get(sent.headers["location"]).text)
    assert "Model answer" in page and _fragment(text.reference_answer) in page and 'class="score"' in page
    assert all(p.hint in page for p in text.rubric if p.hint) and "Try again" in page
    status = candidate_client.get(sent.headers["location"] + "/status", headers={"HX-Request": "true"}).text
    assert "Model answer" in status
    assert "Ask an interviewer to review this answer" in page
    assert "not shown" not in candidate_client.get("/submissions").text
    assert "Recent feedback" in candidate_client.get("/progress").text
    with session_scope(app.state.db.read_session) as db:
        assert db.scalar(select(func.count()).select_from(PracticeCard)) == 1
