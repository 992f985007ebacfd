"""catalogue_state: a version the database bumps on every change the question list depends on.

Triggers, not application code, so that no write path (the editor, an import, the CLI, a bulk
insert, SQL by hand) can change the bank without the web processes' cached list seeing it.
SQLite has row triggers only; PostgreSQL uses one statement trigger per table and statement.
An upsert, because emptying the table (tests, a manual repair) must not stop the bumps.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# (table, the events that change the list). UPDATE OF lists only the columns the list reads, so
# saving a revision pointer or a timestamp does not throw every process's cache away.
WATCHED = [
    ("questions", ["INSERT", "DELETE", "UPDATE OF status, topic_id, difficulty, kind, title, search_text"]),
    ("question_tags", ["INSERT", "DELETE", "UPDATE"]),
    ("topics", ["INSERT", "DELETE", "UPDATE OF slug, name, position"]),
]
SQLITE_BUMP = ("INSERT INTO catalogue_state (id, token, version) VALUES (1, lower(hex(randomblob(16))), 1) "
               "ON CONFLICT (id) DO UPDATE SET version = catalogue_state.version + 1")
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION bump_catalogue_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalogue_state (id, token, version) VALUES (1, md5(random()::text || clock_timestamp()::text), 1)
    ON CONFLICT (id) DO UPDATE SET version = catalogue_state.version + 1;
    RETURN NULL;
END $$"""


def _trigger_name(table: str, event: str) -> str:
    return f"{table}_bump_catalogue_{event.split()[0].lower()}"


def upgrade() -> None:
    op.create_table(
        'catalogue_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_state')),
    )
    op.execute(f"INSERT INTO catalogue_state (id, token, version) VALUES (1, '{uuid.uuid4().hex}', 0)")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.execute(PG_FUNCTION)
    for table, events in WATCHED:
        for event in events:
            name = _trigger_name(table, event)
            if sqlite:
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {SQLITE_BUMP}; END")
            else:
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                           "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version()")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, events in WATCHED:
        for event in events:
            name = _trigger_name(table, event)
            op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS bump_catalogue_version()")
    op.drop_table('catalogue_state')
