"""What every request costs: links resolved without walking the route tree, the session and user in
one query, the navigation's badge read only where a page shows it, the request's transaction
committed or rolled back as before, and a revoked session refused at once wherever it was revoked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi import HTTPException
from fastapi.routing import iter_route_contexts
from sqlalchemy import event, func, select, update
from starlette.routing import NoMatchFound

from tests.conftest import PASSWORD
from tests.helpers import login
from webapp.core.db import Database, session_scope, utcnow
from webapp.identity.models import LoginFailure, Role, User
from webapp.review.models import Review, ReviewState
from webapp.submissions.models import SubmissionStatus
from webapp.web.deps import SessionDep

SAMPLE = {"integer": 7, "string": "some-slug", "path": "/css/app.css"}


def _sample_params(route) -> dict[str, object]:
    return {name: SAMPLE[type(convertor).__name__.removesuffix("Convertor").lower()]
            for name, convertor in route.param_convertors.items()}


def test_every_named_route_links_as_the_app_resolves_it(app) -> None:
    path_for = app.state.path_for
    routes = [route for route in iter_route_contexts(app.routes) if route.name]
    assert len(routes) > 50
    for route in routes:
        params = _sample_params(route)
        expected = app.url_path_for(route.name, **params)
        assert path_for(route.name, **params) == expected, route.name
        assert path_for(route.name, **params) == expected, route.name  # remembered: the same answer
    with pytest.raises(NoMatchFound):
        path_for("submission_detail")  # a parameter missing
    with pytest.raises(NoMatchFound):
        path_for("no_such_route")


@contextmanager
def _statements(app) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(app.state.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(app.state.db.engine, "before_cursor_execute", record)


def _touching(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if table in s]


def test_a_visitor_costs_no_session_query_and_a_signed_in_user_one(app, bank, client, make_user) -> None:
    slug = next(q.slug for q in bank.questions if q.kind == "text")
    with _statements(app) as seen:
        assert client.get(f"/questions/{slug}").status_code == 200
    assert _touching(seen, "auth_sessions") == [] and _touching(seen, "FROM users") == []
    login(client, make_user().email, PASSWORD)
    with _statements(app) as seen:
        assert client.get(f"/questions/{slug}").status_code == 200
    assert len(_touching(seen, "auth_sessions")) == 1  # the session's row and its user together
    assert len(_touching(seen, "FROM users")) == 1


def test_the_badge_is_read_only_where_a_page_shows_it(app, bank, make_user, make_client, make_submission) -> None:
    candidate = make_user()
    reviewed = make_submission(candidate, status=SubmissionStatus.graded, score=60, answer_text="An answer.",
                               feedback={"kind": "rubric", "points": []}, review=ReviewState.submitted)
    waiting = make_submission(candidate, answer_text="Another answer.")  # queued: its page polls its status
    with session_scope(app.state.db.write_session) as db:
        db.execute(update(Review).where(Review.submission_id == reviewed.id).values(submitted_at=utcnow()))
    browser = make_client()
    login(browser, candidate.email, PASSWORD)
    with _statements(app) as seen:
        page = browser.get("/questions")
    assert "1 new" in page.text
    assert len(_touching(seen, "seen_by_candidate_at IS NULL")) == 2  # is there one (built once), and the count
    with _statements(app) as seen:
        poll = browser.get(f"/submissions/{waiting.id}/status", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "submission-status" in poll.text
    assert _touching(seen, "seen_by_candidate_at IS NULL") == []  # a fragment has no navigation
    with _statements(app) as seen:
        assert browser.get(f"/submissions/{reviewed.id}").status_code == 200
    assert len(_touching(seen, "FROM reviews")) == 3  # the badge (any, and the count), and the review once
    interviewer = make_client()
    login(interviewer, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
    with _statements(app) as seen:
        assert interviewer.get("/questions").status_code == 200
    assert _touching(seen, "seen_by_candidate_at IS NULL") == []  # staff have no badge


def test_the_request_transaction_commits_or_rolls_back_as_a_whole(app, client) -> None:
    def keep(db: SessionDep) -> dict[str, str]:
        db.add(LoginFailure(key="kept", at=utcnow()))
        return {"ok": "yes"}

    def refuse(db: SessionDep) -> dict[str, str]:
        db.add(LoginFailure(key="dropped", at=utcnow()))
        db.flush()
        raise HTTPException(409, "No.")

    app.add_api_route("/test-keep", keep)
    app.add_api_route("/test-refuse", refuse)
    assert client.get("/test-keep").status_code == 200
    assert client.get("/test-refuse").status_code == 409
    with session_scope(app.state.db.read_session) as db:
        keys = set(db.scalars(select(LoginFailure.key)))
    assert keys == {"kept"}  # committed before the response; the refused one rolled back


def test_a_session_revoked_from_another_process_is_refused_at_once(app, settings, client, make_user) -> None:
    user = make_user()
    login(client, user.email, PASSWORD)
    assert client.get("/submissions", follow_redirects=False).status_code == 200
    elsewhere = Database(settings.resolved_database_url)  # its own engine and pool, as another process has
    try:
        with session_scope(elsewhere.write_session) as db:
            row = db.get(User, user.id)
            assert row is not None
            row.session_version += 1  # what log-out-everywhere, a password change or deactivation do
    finally:
        elsewhere.dispose()
    assert client.get("/submissions", follow_redirects=False).status_code == 303  # no cache to outlive it
    with session_scope(app.state.db.read_session) as db:
        assert db.scalar(select(func.count()).select_from(User)) == 1
