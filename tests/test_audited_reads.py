"""A page that audits what it showed (a GET) writes the audit row in a transaction of its own:
on SQLite a read transaction that then writes fails at once when another write has committed
since it began, which any grader finishing a grade does."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from webapp.audit.models import AuditEvent
from webapp.audit.service import record_event, record_view
from webapp.core.db import session_scope


def _another_write_commits(database) -> None:
    with session_scope(database.write_session) as other:
        record_event(other, actor=None, action="test.other_write")


def test_a_read_that_audits_survives_a_write_committed_meanwhile(app) -> None:
    database = app.state.db
    with session_scope(database.read_session) as db:
        db.scalar(select(func.count()).select_from(AuditEvent))  # the read has begun
        _another_write_commits(database)
        record_view(db, actor=None, action="test.viewed", target="page:1", summary="viewed a page")
    with session_scope(database.read_session) as db:
        actions = set(db.scalars(select(AuditEvent.action)))
    assert {"test.other_write", "test.viewed"} <= actions


def test_writing_in_the_read_itself_is_what_fails_on_sqlite(app) -> None:
    database = app.state.db
    if not database.is_sqlite:
        pytest.skip("PostgreSQL lets a read transaction write")
    with pytest.raises(OperationalError, match="locked"):
        with session_scope(database.read_session) as db:
            db.scalar(select(func.count()).select_from(AuditEvent))
            _another_write_commits(database)
            record_event(db, actor=None, action="test.viewed")
            db.flush()
