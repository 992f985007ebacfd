"""Integrity signals for assessments: code answers' fingerprints (queued for comparison when
graded), the pairs found alike, and the answer pages' session signals.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webapp.core.db

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('code_fingerprints',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('hashes', sa.JSON(), nullable=True),
    sa.Column('token_coverage', sa.Integer(), nullable=False),
    sa.Column('queued_at', webapp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', webapp.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_at', webapp.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['assessment_attempts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id')
    )
    op.create_index('ix_code_fingerprints_question', 'code_fingerprints', ['question_id', 'submission_id'])
    op.create_index('ix_code_fingerprints_unchecked', 'code_fingerprints', ['checked_at', 'queued_at'])
    op.create_index(op.f('ix_code_fingerprints_attempt_id'), 'code_fingerprints', ['attempt_id'])
    op.create_table('similarity_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_id', sa.Integer(), nullable=False),
    sa.Column('second_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('first_share', sa.Float(), nullable=False),
    sa.Column('second_share', sa.Float(), nullable=False),
    sa.Column('first_regions', sa.JSON(), nullable=False),
    sa.Column('second_regions', sa.JSON(), nullable=False),
    sa.Column('found_at', webapp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['first_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['second_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('first_id', 'second_id')
    )
    op.create_index('ix_similarity_matches_second', 'similarity_matches', ['second_id'])
    op.create_table('session_signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('visit', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at_ms', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('received_at', webapp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['assessment_attempts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_session_signals_attempt', 'session_signals', ['attempt_id', 'question_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_session_signals_attempt', table_name='session_signals')
    op.drop_table('session_signals')
    op.drop_index('ix_similarity_matches_second', table_name='similarity_matches')
    op.drop_table('similarity_matches')
    op.drop_index(op.f('ix_code_fingerprints_attempt_id'), table_name='code_fingerprints')
    op.drop_index('ix_code_fingerprints_unchecked', table_name='code_fingerprints')
    op.drop_index('ix_code_fingerprints_question', table_name='code_fingerprints')
    op.drop_table('code_fingerprints')
