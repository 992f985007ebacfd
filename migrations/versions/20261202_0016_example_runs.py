"""Example tests a candidate can run (question_revisions.example_tests) and the runs (example_runs).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('question_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('example_tests', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('solution_checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suite', sa.String(length=10), nullable=False, server_default='hidden'))
    op.create_table(
        'example_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('revision_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('queued', 'running', 'done', name='runstatus', native_enum=False, length=20),
                  nullable=False),
        sa.Column('claim_token', sa.String(length=32), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['revision_id'], ['question_revisions.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_example_runs_status', 'example_runs', ['status', 'id'])
    op.create_index('ix_example_runs_user', 'example_runs', ['user_id', 'id'])
    op.create_index('ix_example_runs_created_at', 'example_runs', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_example_runs_created_at', table_name='example_runs')
    op.drop_index('ix_example_runs_user', table_name='example_runs')
    op.drop_index('ix_example_runs_status', table_name='example_runs')
    op.drop_table('example_runs')
    with op.batch_alter_table('solution_checks', schema=None) as batch_op:
        batch_op.drop_column('suite')
    with op.batch_alter_table('question_revisions', schema=None) as batch_op:
        batch_op.drop_column('example_tests')
