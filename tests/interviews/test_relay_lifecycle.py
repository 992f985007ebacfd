"""The relay's LISTEN connection lives exactly as long as the app: an app whose lifespan runs
more than once (several clients of one app, as the tests do) must not leave one behind each time,
which exhausted PostgreSQL's connection limit over a whole test run."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from tests.helpers import wait_for

pytestmark = pytest.mark.skipif(not os.environ.get("REHEARSE_TEST_DATABASE_URL"),
                                reason="the relay between processes runs on PostgreSQL")


def _listening(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()")).scalar_one()
    finally:
        engine.dispose()


def test_one_listen_connection_however_often_the_lifespan_runs(app, database_url) -> None:
    assert _listening(database_url) == 0
    with TestClient(app), TestClient(app), TestClient(app):
        wait_for(lambda: _listening(database_url) >= 1, timeout=10, message="the relay listening")
        assert _listening(database_url) == 1
    wait_for(lambda: _listening(database_url) == 0, timeout=10, message="no LISTEN connection left")
