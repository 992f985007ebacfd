"""The pages that grow with the data never scan the submissions table.

Every statement the review queue, a candidate's history, the progress page and the admin
queue dashboard send is explained by the database itself; a full scan of submissions
(SQLite "SCAN submissions", PostgreSQL "Seq Scan on submissions" with sequential scans
discouraged) fails the test.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select, text

from tests.conftest import PASSWORD
from tests.helpers import login
from webapp.core.db import session_scope, utcnow
from webapp.identity.models import Role
from webapp.questions.models import Question
from webapp.review.models import Review
from webapp.submissions.models import Submission, SubmissionStatus

PAGES = {"candidate": ["/submissions", "/progress", "/"], "interviewer": ["/review", "/review?state=all"],
         "admin": ["/review", "/admin/queue"]}


def _seed(app, make_user) -> None:
    users = [make_user(email=f"c{n}@example.com") for n in range(3)]
    with session_scope(app.state.db.write_session) as db:
        questions = list(db.scalars(select(Question).limit(10)))
        now = utcnow()
        rows = [Submission(user_id=users[n % 3].id, question_id=q.id, revision_id=q.current_revision_id,
                           kind=q.kind, answer_text="x", status=SubmissionStatus.graded, score=n % 100,
                           queued_at=now - timedelta(hours=n), finished_at=now - timedelta(hours=n))
                for n in range(300) for q in [questions[n % 10]]]
        db.add_all(rows)
        db.flush()
        db.add_all(Review(submission_id=r.id) for r in rows[::7])


def _capture(app, client, path: str) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(app.state.db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200, path
    finally:
        event.remove(app.state.db.engine, "before_cursor_execute", listener)
    return [(s, p) for s, p in seen if "submissions" in s and s.lstrip().upper().startswith("SELECT")]


def _plan(app, statement: str, parameters: object) -> str:
    with app.state.db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        if app.state.db.is_sqlite:
            rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            return "\n".join(str(r[-1]) for r in rows)
        with raw.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, parameters)
            return "\n".join(r[0] for r in cursor.fetchall())


def _full_scan(plan: str) -> bool:
    lines = plan.splitlines()
    return any(line.strip().startswith("SCAN submissions") for line in lines) or "Seq Scan on submissions" in plan


def test_growing_pages_use_indexes(app, bank, make_user, make_client) -> None:
    _seed(app, make_user)
    clients = {"candidate": make_client(), "interviewer": make_client(), "admin": make_client()}
    login(clients["candidate"], "c0@example.com", PASSWORD)
    login(clients["interviewer"], make_user(Role.interviewer).email, PASSWORD)
    login(clients["admin"], make_user(Role.admin).email, PASSWORD)
    if not app.state.db.is_sqlite:
        with app.state.db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    offenders, explained = [], 0
    for role, paths in PAGES.items():
        for path in paths:
            for statement, parameters in _capture(app, clients[role], path):
                plan = _plan(app, statement, parameters)
                explained += 1
                if _full_scan(plan):
                    offenders.append(f"{role} {path}:\n{statement}\n{plan}")
    assert explained >= 8  # the test really looked at the pages' queries
    assert offenders == [], "\n\n".join(offenders)


def test_the_detector_sees_a_full_scan(app) -> None:
    params: object = () if app.state.db.is_sqlite else None
    assert _full_scan(_plan(app, "SELECT count(*) FROM submissions WHERE answer_text <> ''", params))
