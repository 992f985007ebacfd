"""The migrations, applied to an empty database, produce exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

import webapp.models  # noqa: F401
from webapp.core.db import Base
from webapp.core.migrate import include_name


def test_upgrade_head_matches_models(database_url):
    # The session's database was created by `alembic upgrade head` in conftest.
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        differences = compare_metadata(context, Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
