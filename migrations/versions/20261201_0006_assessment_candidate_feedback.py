"""assessments: what candidates see of their answers once the assessment has ended

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('candidate_feedback', sa.Enum('nothing', 'score', 'full', name='candidatefeedback',
                                                                    native_enum=False, length=10),
                                      server_default='score', nullable=False))
    # Mock interviews belong to the candidate: full feedback once they end.
    op.execute("UPDATE assessments SET candidate_feedback = 'full' WHERE kind = 'mock'")


def downgrade() -> None:
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_column('candidate_feedback')
