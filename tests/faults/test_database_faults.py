"""What a user is shown when the database fails (no processes needed): which failures are faults of
the database rather than bugs, and the 503/507 pages they get instead of a 500."""

from __future__ import annotations

import logging
import sqlite3
from types import SimpleNamespace

import psycopg
import pytest
from fastapi import APIRouter
from sqlalchemy import exc as sa_exc
from starlette.testclient import TestClient

from tests.helpers import post_form
from webapp.core.db_faults import DatabaseFault, Outage, database_fault


def wrapped(driver_error: Exception, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return sa_exc.OperationalError("SELECT 1", {}, driver_error, connection_invalidated=invalidated)


def full_disk() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = sqlite3.SQLITE_FULL
    return error


@pytest.mark.parametrize(("error", "fault"), [
    (wrapped(psycopg.OperationalError("connection failed: Connection refused")), DatabaseFault.unavailable),
    (wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command")),
     DatabaseFault.unavailable),
    (wrapped(psycopg.errors.CannotConnectNow("the database system is starting up")), DatabaseFault.unavailable),
    (wrapped(psycopg.errors.DiskFull("could not extend file")), DatabaseFault.out_of_space),
    (wrapped(full_disk()), DatabaseFault.out_of_space),
    (wrapped(RuntimeError("anything"), invalidated=True), DatabaseFault.unavailable),
    (sa_exc.TimeoutError("QueuePool limit reached"), DatabaseFault.unavailable),
    (sa_exc.IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")), None),
    (wrapped(sqlite3.OperationalError("no such table: users")), None),
    (RuntimeError("a bug"), None),
])
def test_which_failures_are_the_databases(error, fault) -> None:
    assert database_fault(error) is fault
    try:
        raise RuntimeError("while storing") from error
    except RuntimeError as chained:
        assert database_fault(chained) is fault  # found behind the error it caused too


@pytest.fixture
def failing(app, monkeypatch):
    """``GET /fails`` and the answer route raise ``failing.error`` (the database unreachable, unless changed)."""
    failure = SimpleNamespace(error=wrapped(psycopg.OperationalError("connection failed")))

    def fail() -> None:
        raise failure.error

    router = APIRouter()
    router.get("/fails")(fail)
    app.include_router(router)
    monkeypatch.setattr("webapp.web.submissions.answering.submit_answer", lambda *args, **kwargs: fail())
    return failure


def test_the_database_unavailable_is_a_503_with_retry_after(app, failing) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/fails")
        fragment = client.get("/fails", headers={"HX-Request": "true"})
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert "The database is not answering right now" in page.text and "Traceback" not in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    assert fragment.status_code == 503 and fragment.headers["hx-retarget"] == "#flash-area"
    assert "<html" not in fragment.text and "try again in a few seconds" in fragment.text


def test_an_answer_on_a_full_disk_is_a_507_saying_it_was_not_saved(failing, candidate_client, bank) -> None:
    failing.error = wrapped(full_disk())
    slug = next(q.slug for q in bank.questions if q.kind == "text")
    response = post_form(candidate_client, f"/questions/{slug}/submissions", {"answer": "Starlette and Pydantic."},
                         token_page=f"/questions/{slug}")
    assert response.status_code == 507 and response.headers["retry-after"].isdigit()
    assert "The server is out of disk space, so your answer was not saved." in response.text


def test_any_other_database_error_is_still_a_500(app, failing) -> None:
    failing.error = sa_exc.IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("secret internals"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/fails")
    assert response.status_code == 500 and "secret internals" not in response.text


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(caplog) -> None:
    outage = Outage(logging.getLogger("test.outage"), "grader g", first_wait=0.2, longest_wait=1.0)
    down = wrapped(psycopg.OperationalError("connection failed: Connection refused"))
    with caplog.at_level(logging.INFO, logger="test.outage"):
        assert [outage.failed(down) for _ in range(5)] == [True] * 5
        assert outage.ongoing and outage.wait_seconds() == 1.0  # 0.2, 0.4, 0.8, then at most 1.0
        assert not outage.failed(RuntimeError("a bug"))  # not the database's: the caller reports it
        outage.recovered()
        outage.recovered()
    assert not outage.ongoing and outage.wait_seconds() == 0
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2 and said[0].startswith("grader g: database unavailable (connection failed")
    assert said[1].startswith("grader g: database back after") and said[1].endswith("(5 failed tries)")
