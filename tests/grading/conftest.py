"""Fixtures for tests that start real `rehearse` processes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import _create_postgres_database, _drop_postgres_database


@pytest.fixture
def site_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database when the suite runs on PostgreSQL; None means SQLite."""
    base = os.environ.get("REHEARSE_TEST_DATABASE_URL")
    if not base:
        yield None
        return
    url, name = _create_postgres_database(base)
    yield url
    _drop_postgres_database(base, name)
