"""Integrity signals end to end over HTTP: code answers compared on the graders, the report and
the comparison page, who may see what, and the session-signal endpoint's rules."""

from __future__ import annotations

import re
from functools import partial

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.audit.models import AuditEvent
from webapp.core.db import session_scope
from webapp.identity.models import Role
from webapp.integrity.models import CodeFingerprint, SessionSignal, SimilarityMatch
from webapp.submissions.models import Submission

CODE_SLUG = "pydantic-signup-validators"
_post = partial(post_form, token_page="/assessments")


def _disguised(code: str) -> str:
    """The same answer with its names changed, comments dropped and the layout redone."""
    for old, new in [("Username", "Handle"), ("check_passwords", "verify_pair"), ("router", "api"),
                     ("body", "payload"), ("SignupResponse", "Reply")]:
        code = re.sub(rf"\b{old}\b", new, code)
    code = re.sub(r"\s*#.*", "", code)
    return code.replace("\n\n\n", "\n\n").replace("(strip_whitespace=True, ", "(\n    strip_whitespace=True,\n    ")


@pytest.fixture
def code_question(bank):
    return next(q for q in bank.questions if q.slug == CODE_SLUG)


def _signed_in(make_user, make_client, role=Role.candidate, email=None):
    user = make_user(role, email=email)
    client = make_client()
    login(client, user.email, PASSWORD)
    return user, client


def _assessment(interviewer, emails: list[str], title: str = "Backend screen") -> int:
    created = _post(interviewer, "/assessments/new", {"title": title, "time_limit": "30", "questions": [CODE_SLUG]})
    assert created.status_code == 303, created.text[:500]
    assessment = int(created.headers["location"].rsplit("/", 1)[1])
    invited = _post(interviewer, f"/assessments/{assessment}/invite", {"emails": "\n".join(emails)})
    assert invited.status_code == 303
    return assessment


def _answer(candidate, code: str, *, title: str = "Backend screen") -> int:
    """Start the invited assessment called ``title`` and send ``code``; returns the attempt id."""
    page = candidate.get("/assessments").text
    attempt = int(re.search(rf'href="/assessments/take/(\d+)">{re.escape(title)}<', page).group(1))
    assert _post(candidate, f"/assessments/take/{attempt}/start").status_code == 303
    sent = _post(candidate, f"/questions/{CODE_SLUG}/submissions", {"code": code, "attempt": str(attempt)},
                 headers={"HX-Request": "true"})
    assert sent.status_code == 200, sent.text[:300]
    return attempt


def _report(client, assessment: int, attempt: int) -> str:
    page = client.get(f"/assessments/{assessment}/report/{attempt}")
    assert page.status_code == 200
    return page.text


@pytest.mark.sandbox
def test_a_disguised_copy_is_listed_an_independent_answer_is_not(make_user, make_client, code_question, drain,
                                                                   app) -> None:
    _, interviewer = _signed_in(make_user, make_client, Role.interviewer)
    people = [_signed_in(make_user, make_client, email=f"c{n}@example.com") for n in range(4)]
    assessment = _assessment(interviewer, [user.email for user, _ in people])
    original, independent = code_question.correct_solutions[0].code, code_question.correct_solutions[1].code
    attempts = [_answer(people[0][1], original), _answer(people[1][1], _disguised(original)),
                _answer(people[2][1], independent)]
    in_a_string = _answer(people[3][1], f"exec({original!r})\n")  # runs as the original; compares as nothing
    resent = _post(people[0][1], f"/questions/{CODE_SLUG}/submissions",  # c0 sends it again: listed once
                   {"code": original + "\n", "attempt": str(attempts[0])}, headers={"HX-Request": "true"})
    assert resent.status_code == 200
    assert "Compared once graded" in _report(interviewer, assessment, attempts[1])
    drain()
    with session_scope(app.state.db.read_session) as db:
        assert all(row.checked_at is not None for row in db.scalars(select(CodeFingerprint))), "all four compared"
        pairs = [(m.first.user_id, m.second.user_id) for m in db.scalars(select(SimilarityMatch))]
    assert sorted(map(sorted, pairs)) == [sorted([people[0][0].id, people[1][0].id])] * 2, pairs  # c0's two answers

    copy_report = _report(interviewer, assessment, attempts[1])
    assert re.search(r"<strong>\d+ %</strong> of it matches\s+c0 in this assessment", copy_report), copy_report
    assert copy_report.count("of it matches") == 1
    assert "No close match" in _report(interviewer, assessment, attempts[2])
    assert "characters of code inside strings" not in copy_report
    hidden_report = _report(interviewer, assessment, in_a_string)
    assert f"{len(original)} characters of code inside strings" in hidden_report, hidden_report
    with session_scope(app.state.db.read_session) as db:
        hidden_id = db.scalar(select(Submission.id).where(Submission.attempt_id == in_a_string))
    review_page = interviewer.get(f"/review/{hidden_id}")
    assert review_page.status_code == 200 and f"{len(original)} characters of code inside strings" in review_page.text
    match_id = int(re.search(r"/similar/(\d+)", copy_report).group(1))
    compared = interviewer.get(f"/assessments/{assessment}/report/{attempts[1]}/similar/{match_id}")
    assert compared.status_code == 200
    marked = re.findall(r"<mark>(.*?)</mark>", compared.text, re.S)
    assert len(marked) >= 2 and any("verify_pair" in m for m in marked) and any("check_passwords" in m for m in marked)
    assert "StringConstraints" in compared.text and "Evidence" not in compared.text.split("<h1>")[0]
    # Starter and reference code never count: a candidate who kept the reference matches no one for it.
    with session_scope(app.state.db.read_session) as db:
        actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.action.like("integrity.%")))]
    assert actions.count("integrity.similarity_viewed") == 1 and actions.count("integrity.comparison_viewed") == 1


@pytest.mark.sandbox
def test_another_interviewers_candidate_stays_anonymous_and_candidates_see_nothing(make_user, make_client,
                                                                                 code_question, drain) -> None:
    _, first = _signed_in(make_user, make_client, Role.interviewer)
    _, second = _signed_in(make_user, make_client, Role.interviewer)
    _, admin = _signed_in(make_user, make_client, Role.admin)
    (ada, ada_client), (bo, bo_client) = (_signed_in(make_user, make_client, email="ada@example.com"),
                                          _signed_in(make_user, make_client, email="bo@example.com"))
    earlier = _assessment(first, [ada.email], title="Earlier screen")
    original = code_question.correct_solutions[0].code
    ada_attempt = _answer(ada_client, original, title="Earlier screen")
    later = _assessment(second, [bo.email], title="Later screen")
    bo_attempt = _answer(bo_client, _disguised(original), title="Later screen")
    drain()

    report = _report(second, later, bo_attempt)
    assert "of it matches\n            a candidate in another interviewer's assessment" in report, report
    assert "ada" not in report.lower() and "Earlier screen" not in report
    match_id = int(re.search(r"/similar/(\d+)", report).group(1))
    hidden = second.get(f"/assessments/{later}/report/{bo_attempt}/similar/{match_id}").text
    assert 'id="other-hidden"' in hidden and "check_passwords" not in hidden and "verify_pair" in hidden
    shown = admin.get(f"/assessments/{later}/report/{bo_attempt}/similar/{match_id}").text
    assert "check_passwords" in shown and "ada in Earlier screen" in shown
    earlier_report = _report(first, earlier, ada_attempt)  # the pair shows on both sides, anonymous to each
    assert "a candidate in another interviewer's assessment" in earlier_report
    assert "Later screen" not in earlier_report and "bo" not in re.sub(r"<[^>]+>", "", earlier_report).split()

    for client, path in [(bo_client, f"/assessments/{later}/report/{bo_attempt}/similar/{match_id}"),
                         (bo_client, f"/assessments/{later}/report/{bo_attempt}"),
                         (first, f"/assessments/{later}/report/{bo_attempt}/similar/{match_id}"),
                         (second, f"/assessments/{later}/report/{bo_attempt}/similar/{match_id + 1000}"),
                         (first, f"/assessments/{earlier}/report/{ada_attempt}/similar/{match_id + 1000}")]:
        assert client.get(path).status_code in (403, 404), path
    for page in ("/assessments", f"/assessments/take/{bo_attempt}", "/submissions"):
        text = bo_client.get(page).text
        assert "check_passwords" not in text and "matches" not in text and "Similar code" not in text


def _signals(client, attempt: int, events, *, visit: str = "visit0001", position: int = 1):
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/assessments").text).group(1)
    return client.post(f"/assessments/take/{attempt}/questions/{position}/signals",
                       json={"visit": visit, "events": events}, headers={"X-CSRF-Token": token})


def test_session_signals_are_kept_for_a_running_attempt_only_and_shown_as_a_timeline(make_user, make_client,
                                                                                      code_question, app) -> None:
    _, interviewer = _signed_in(make_user, make_client, Role.interviewer)
    (ada, ada_client), (_, bo_client) = (_signed_in(make_user, make_client, email="ada@example.com"),
                                         _signed_in(make_user, make_client, email="bo@example.com"))
    assessment = _assessment(interviewer, [ada.email])
    attempt = int(re.search(r"/assessments/take/(\d+)", ada_client.get("/assessments").text).group(1))
    start_page = ada_client.get(f"/assessments/take/{attempt}").text
    assert 'id="signals-notice"' in start_page and "never its text" in start_page
    assert _signals(ada_client, attempt, [{"kind": "opened", "at_ms": 0}]).status_code == 409  # not started
    assert _post(ada_client, f"/assessments/take/{attempt}/start").status_code == 303
    assert 'id="no-signals"' in _report(interviewer, assessment, attempt)

    events = [{"kind": "opened", "at_ms": 0}, {"kind": "first_input", "at_ms": 14_000},
              {"kind": "paste", "at_ms": 20_000, "size": 540, "external": True},
              {"kind": "paste", "at_ms": 30_000, "size": 40, "external": False},
              {"kind": "hidden", "at_ms": 50_000, "ms": 65_000}, {"kind": "submitted", "at_ms": 372_000}]
    assert _signals(ada_client, attempt, events).status_code == 204
    report = _report(interviewer, assessment, attempt)
    assert "first keystroke after 0:14" in report and "2 pastes (580 characters; <strong>1 from outside" in report
    assert "page hidden 1 time, 1:05 in all" in report and "sent 6:12 after opening" in report
    assert "pasted 540 characters from outside the page" in report and 'id="no-signals"' not in report

    refused = {"a kind nobody sends": [{"kind": "keylog", "at_ms": 1}],
               "a paste without its size": [{"kind": "paste", "at_ms": 1, "external": True}],
               "a negative moment": [{"kind": "opened", "at_ms": -5}],
               "no events": [], "too many at once": [{"kind": "opened", "at_ms": 1}] * 51}
    for what, bad in refused.items():
        assert _signals(ada_client, attempt, bad).status_code == 422, what
    assert _signals(ada_client, attempt, events, visit="no").status_code == 422
    assert _signals(ada_client, attempt, events, position=9).status_code == 404
    assert _signals(bo_client, attempt, events).status_code == 404, "another candidate's attempt"
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', ada_client.get("/assessments").text).group(1)
    oversized = b'{"visit": "visit0001", "events": [' + b" " * (17 * 1024) + b"]}"
    for body in (oversized, iter([oversized[:9000], oversized[9000:]])):  # declared length, then chunked
        too_big = ada_client.post(f"/assessments/take/{attempt}/questions/1/signals", content=body,
                                  headers={"X-CSRF-Token": token, "Content-Type": "application/json"})
        assert too_big.status_code == 413, too_big.text[:200]
    assert ada_client.post(f"/assessments/take/{attempt}/questions/1/signals",
                           json={"visit": "visit0001", "events": events}).status_code == 403, "no CSRF token"
    sent = sum(1 for _ in range(60) if _signals(ada_client, attempt, [{"kind": "opened", "at_ms": 1}] * 50)
               .status_code == 204)
    refused_batch = _signals(ada_client, attempt, [{"kind": "opened", "at_ms": 1}] * 50)
    assert sent < 60 and refused_batch.status_code == 429 and refused_batch.headers["Retry-After"] == "60"
    with session_scope(app.state.db.read_session) as db:
        stored = len(list(db.scalars(select(SessionSignal.id).where(SessionSignal.attempt_id == attempt))))
    assert stored <= 300, "the per-minute bound holds"
