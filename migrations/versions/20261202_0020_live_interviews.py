"""Live interviews: the room, its questions, the document's update log, notes, events and runs;
example_runs learn which tests they run (suite) and whether they outlive the daily sweep (kept).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webapp.core.db

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interviewer_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_at', webapp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', webapp.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', webapp.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('current_question_id', sa.Integer(), nullable=True),
    sa.Column('log_bytes', sa.Integer(), server_default='0', nullable=False),
    sa.Column('point_ratings', sa.JSON(), nullable=False),
    sa.Column('recommendation', sa.Enum('strong_no', 'no', 'yes', 'strong_yes', name='recommendation', native_enum=False, length=20), nullable=True),
    sa.Column('overall_comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['users.id'], name=op.f('fk_interviews_candidate_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['current_question_id'], ['questions.id'], name=op.f('fk_interviews_current_question_id_questions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interviewer_id'], ['users.id'], name=op.f('fk_interviews_interviewer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interviews'))
    )
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.create_index('ix_interviews_candidate', ['candidate_id', 'id'], unique=False)
        batch_op.create_index('ix_interviews_interviewer', ['interviewer_id', 'id'], unique=False)

    op.create_table('interview_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', webapp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_interview_events_interview_id_interviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_interview_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_events'))
    )
    with op.batch_alter_table('interview_events', schema=None) as batch_op:
        batch_op.create_index('ix_interview_events_interview', ['interview_id', 'id'], unique=False)

    op.create_table('interview_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', webapp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_interview_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_interview_notes_interview_id_interviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_notes'))
    )
    with op.batch_alter_table('interview_notes', schema=None) as batch_op:
        batch_op.create_index('ix_interview_notes_interview', ['interview_id', 'id'], unique=False)

    op.create_table('interview_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_at', webapp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_interview_questions_interview_id_interviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_interview_questions_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revision_id'], ['question_revisions.id'], name=op.f('fk_interview_questions_revision_id_question_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_questions')),
    sa.UniqueConstraint('interview_id', 'question_id', name=op.f('uq_interview_questions_interview_id'))
    )
    op.create_table('interview_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', webapp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_interview_updates_interview_id_interviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_interview_updates_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_updates'))
    )
    with op.batch_alter_table('interview_updates', schema=None) as batch_op:
        batch_op.create_index('ix_interview_updates_interview', ['interview_id', 'id'], unique=False)

    op.create_table('interview_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('suite', sa.String(length=10), nullable=False),
    sa.Column('created_at', webapp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_interview_runs_interview_id_interviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_interview_runs_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_interview_runs_requested_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['example_runs.id'], name=op.f('fk_interview_runs_run_id_example_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_runs')),
    sa.UniqueConstraint('run_id', name=op.f('uq_interview_runs_run_id'))
    )
    with op.batch_alter_table('interview_runs', schema=None) as batch_op:
        batch_op.create_index('ix_interview_runs_interview', ['interview_id', 'id'], unique=False)

    with op.batch_alter_table('example_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suite', sa.String(length=10), server_default='example', nullable=False))
        batch_op.add_column(sa.Column('kept', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('example_runs', schema=None) as batch_op:
        batch_op.drop_column('kept')
        batch_op.drop_column('suite')

    with op.batch_alter_table('interview_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_interview_runs_interview')

    op.drop_table('interview_runs')
    with op.batch_alter_table('interview_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_interview_updates_interview')

    op.drop_table('interview_updates')
    op.drop_table('interview_questions')
    with op.batch_alter_table('interview_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_interview_notes_interview')

    op.drop_table('interview_notes')
    with op.batch_alter_table('interview_events', schema=None) as batch_op:
        batch_op.drop_index('ix_interview_events_interview')

    op.drop_table('interview_events')
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.drop_index('ix_interviews_interviewer')
        batch_op.drop_index('ix_interviews_candidate')

    op.drop_table('interviews')
