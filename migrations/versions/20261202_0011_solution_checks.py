"""Known solutions of a staged import, checked by the graders instead of in the admin's request.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'solution_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('what', sa.String(length=300), nullable=False),
        sa.Column('code', sa.Text(), nullable=False),
        sa.Column('should_pass', sa.Boolean(), nullable=False),
        sa.Column('hidden_tests', sa.Text(), nullable=False),
        sa.Column('limits', sa.JSON(), nullable=False),
        sa.Column('status', sa.Enum('queued', 'running', 'done', name='checkstatus', native_enum=False,
                                    length=20), nullable=False),
        sa.Column('claim_token', sa.String(length=32), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('problem', sa.Text(), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['import_id'], ['bank_imports.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_solution_checks_import_id', 'solution_checks', ['import_id'])
    op.create_index('ix_solution_checks_status', 'solution_checks', ['status', 'id'])


def downgrade() -> None:
    op.drop_index('ix_solution_checks_status', table_name='solution_checks')
    op.drop_index('ix_solution_checks_import_id', table_name='solution_checks')
    op.drop_table('solution_checks')
