"""Fixtures for the fault tests: a PostgreSQL server of their own to stop and start."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.faults.postgres_server import PostgresServer, create_server, server_binaries


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server (the local server's binaries), stopped and removed when the test
    ends however it ends. Stopping it mid-test touches no database anyone else is using."""
    if not os.environ.get("REHEARSE_TEST_DATABASE_URL"):
        pytest.skip("database outages are tested on PostgreSQL (CI sets REHEARSE_TEST_DATABASE_URL)")
    binaries = server_binaries()
    if binaries is None:
        reason = "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
        if os.environ.get("REHEARSE_REQUIRE_FAULTS") == "1":  # CI, whose PostgreSQL runs on this machine
            pytest.fail(f"REHEARSE_REQUIRE_FAULTS=1 but {reason}")
        pytest.skip(reason)
    server = create_server(binaries)
    try:
        yield server
    finally:
        server.remove()
