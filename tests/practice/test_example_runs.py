"""Run examples: the candidate's code against a question's visible example tests, on the graders,
never stored as an answer, never with the hidden tests, one at a time and rate limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.core.db import session_scope, utcnow
from webapp.grading import example_runs
from webapp.grading.models import ExampleRun, RunStatus
from webapp.practice.example_runs import RUNS_PER_WINDOW
from webapp.questions.curation import get_question
from webapp.questions.hidden_tests import collect_tests
from webapp.submissions.models import Submission

SLUG = "pydantic-signup-validators"
HTMX = {"HX-Request": "true"}


def _spec(bank):
    return next(q for q in bank.questions if q.slug == SLUG)


def _run(client, code: str = "", *, headers=None, files=None, slug: str = SLUG):
    return post_form(client, f"/questions/{slug}/runs", {"code": code}, token_page=f"/questions/{slug}",
                     headers=headers, files=files)


def _runs(app) -> list[ExampleRun]:
    with session_scope(app.state.db.read_session) as db:
        return list(db.scalars(select(ExampleRun).order_by(ExampleRun.id)))


def test_the_question_page_shows_the_examples_and_the_button(candidate_client, bank) -> None:
    page = candidate_client.get(f"/questions/{SLUG}").text
    assert "Run examples" in page and 'id="example-run"' in page
    assert "test_example_a_valid_signup" in page  # the examples are shown as they run
    assert "test_valid_signup_is_201" not in page  # a hidden test's name is not
    text_slug = next(q.slug for q in bank.questions if q.kind == "text")
    assert "Run examples" not in candidate_client.get(f"/questions/{text_slug}").text


@pytest.mark.sandbox
def test_a_run_shows_the_example_results_in_place_and_is_not_an_answer(candidate_client, bank, app, drain) -> None:
    spec = _spec(bank)
    queued = _run(candidate_client, spec.reference_solution, headers=HTMX)
    assert queued.status_code == 200, queued.text
    assert "Waiting for a grader" in queued.text and "hx-get" in queued.text  # it polls until done
    run_id = _runs(app)[0].id
    assert drain() == 1
    done = candidate_client.get(f"/questions/{SLUG}/runs/{run_id}", headers=HTMX).text
    assert "All 2 example tests passed." in done and "✓ passed" in done
    assert "hx-get" not in done  # finished: no more polling
    assert "nothing was submitted or graded" in done
    hidden = {t.name for t in collect_tests(spec.hidden_tests)}
    assert not any(name.removeprefix("test_").replace("_", " ") in done for name in hidden)

    wrong = _run(candidate_client, spec.starter_code, headers=HTMX)
    assert wrong.status_code == 200
    drain()
    failed = candidate_client.get(f"/questions/{SLUG}/runs/{_runs(app)[-1].id}", headers=HTMX).text
    assert "✗" in failed and "of 2 example tests passed" in failed

    with session_scope(app.state.db.read_session) as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 0  # not an answer
    assert 'class="meta standing"' not in candidate_client.get(f"/questions/{SLUG}").text  # still unattempted


@pytest.mark.sandbox
def test_without_javascript_the_run_has_its_own_page(candidate_client, bank, app, drain) -> None:
    spec = _spec(bank)
    response = _run(candidate_client, files={"file": ("mine.py", spec.reference_solution.encode(), "text/x-python")})
    assert response.status_code == 303
    location = response.headers["location"]
    waiting = candidate_client.get(location).text
    assert '<meta http-equiv="refresh"' in waiting and "Back to the question" in waiting
    drain()
    page = candidate_client.get(location).text
    assert "All 2 example tests passed." in page and "The code that ran" in page
    assert '<meta http-equiv="refresh"' not in page


def test_the_graders_get_the_example_tests_never_the_hidden_ones(candidate_client, bank, app) -> None:
    spec = _spec(bank)
    assert _run(candidate_client, "app = None", headers=HTMX).status_code == 200
    with session_scope(app.state.db.write_session) as db:
        claim = example_runs.claim_next_run(db)
        assert claim is not None and example_runs.claim_next_run(db) is None
        assert claim.task.hidden_tests == spec.example_tests and claim.task.suite == "example"
        assert claim.task.code == "app = None"
    with session_scope(app.state.db.write_session) as db:
        forged = example_runs.RunClaim(claim.run_id, "not-the-token", claim.task)
        assert not example_runs.complete_run(db, claim=forged, result={"verdict": "passed"})
        assert example_runs.complete_run(db, claim=claim, result={"problem": "stored"})
    assert [(r.status, r.result) for r in _runs(app)] == [(RunStatus.done, {"problem": "stored"})]


def test_one_run_at_a_time_and_a_limit_per_window(candidate_client, bank, app) -> None:
    assert _run(candidate_client, "app = None", headers=HTMX).status_code == 200
    busy = _run(candidate_client, "app = None", headers=HTMX)
    assert busy.status_code == 409 and "still going" in busy.text
    with session_scope(app.state.db.write_session) as db:
        first = db.scalar(select(ExampleRun))
        db.add_all(ExampleRun(user_id=first.user_id, revision_id=first.revision_id, code="x", status=RunStatus.done)
                   for _ in range(RUNS_PER_WINDOW))
        db.execute(update(ExampleRun).values(status=RunStatus.done))
    limited = _run(candidate_client, "app = None", headers=HTMX)
    assert limited.status_code == 429 and "Read the last results" in limited.text
    empty = _run(candidate_client, "  ", headers=HTMX)
    assert empty.status_code == 429  # the limit is checked first: no work for a flood


def test_bad_requests_get_clear_refusals(candidate_client, client, bank, app, make_user, make_client) -> None:
    empty = _run(candidate_client, "   ", headers=HTMX)
    assert empty.status_code == 422 and "Paste your code" in empty.text
    text_slug = next(q.slug for q in bank.questions if q.kind == "text")
    none = _run(candidate_client, "app = None", headers=HTMX, slug=text_slug)
    assert none.status_code == 404 and "no examples" in none.text
    assert _run(candidate_client, "app = None", headers=HTMX, slug="no-such-question").status_code == 404
    assert _run(candidate_client, "app = None", headers=HTMX).status_code == 200
    run_id = _runs(app)[-1].id
    other = make_client()
    login(other, make_user(email="other@example.com").email, PASSWORD)
    assert other.get(f"/questions/{SLUG}/runs/{run_id}").status_code == 404  # someone else's run
    assert candidate_client.get(f"/questions/{text_slug}/runs/{run_id}").status_code == 404  # another question
    anonymous = make_client()
    assert anonymous.get(f"/questions/{SLUG}/runs/{run_id}", follow_redirects=False).status_code in (303, 401)


def test_stopped_runs_are_retried_then_given_up_and_old_runs_deleted(candidate_client, bank, app) -> None:
    assert _run(candidate_client, "app = None", headers=HTMX).status_code == 200
    for _ in range(example_runs.MAX_ATTEMPTS):
        with session_scope(app.state.db.write_session) as db:
            assert example_runs.claim_next_run(db) is not None
            assert example_runs.sweep_runs(db) == 0  # a fresh claim is left alone
            db.execute(update(ExampleRun).values(claimed_at=utcnow() - example_runs.STALE - timedelta(seconds=1)))
            assert example_runs.sweep_runs(db) == 1
    run = _runs(app)[0]
    assert run.status == RunStatus.done and "could not finish" in run.result["problem"]
    with session_scope(app.state.db.write_session) as db:
        db.execute(update(ExampleRun).values(created_at=utcnow() - example_runs.KEPT - timedelta(seconds=1)))
        assert example_runs.sweep_runs(db) == 1
    assert _runs(app) == []


def test_a_question_revision_keeps_its_runs_reachable(candidate_client, bank, app) -> None:
    """Polling carries on across a new revision of the question (the run names its revision)."""
    assert _run(candidate_client, "app = None", headers=HTMX).status_code == 200
    run_id = _runs(app)[0].id
    with session_scope(app.state.db.read_session) as db:
        question = get_question(db, slug=SLUG)
        assert question is not None and _runs(app)[0].revision_id == question.current_revision_id
    assert candidate_client.get(f"/questions/{SLUG}/runs/{run_id}", headers=HTMX).status_code == 200


def test_a_flood_of_runs_slows_answers_but_never_stops_them(candidate_client, bank, app, make_user, make_client,
                                                           answer) -> None:
    """A grader thread alternates: after an example run it takes a waiting answer first."""
    spec = _spec(bank)
    assert answer(spec.slug, code="app = None").status_code == 303  # one answer waits
    with session_scope(app.state.db.write_session) as db:
        user_id, revision_id = db.execute(select(Submission.user_id, Submission.revision_id)).one()
        db.add_all(ExampleRun(user_id=user_id, revision_id=revision_id, code="app = None") for _ in range(3))
    grader = app.state.grader
    order = []
    real_runs, real_grade = grader._run_examples, grader._grade
    grader._run_examples = lambda: (order.append("run"), real_runs())[1]
    grader._grade = lambda claim, job: (order.append("answer"), real_grade(claim, job))[1]
    try:
        for _ in range(3):
            assert grader.process_one()
    finally:
        grader._run_examples, grader._grade = real_runs, real_grade
    assert order[:3] == ["run", "answer", "run"]
