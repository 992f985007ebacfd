"""Queue for comparison the assessments' code answers graded before 0021: without a row in
code_fingerprints the graders never compare them, and their reports wait for ever. Oldest
grades first; the graders take them as they take new ones (idle time, a lease each).

The answers already compared are compared again, and their stored fingerprints dropped: the
comparison now blanks statements that do nothing (integrity/normalise.py), so the old
fingerprints are not comparable with new ones, and padded copies they missed are found.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


# Also run by tests/integrity/test_checks.py on answers stored without being queued.
QUEUE_UNQUEUED = """
        INSERT INTO code_fingerprints (submission_id, question_id, attempt_id, user_id, token_coverage, queued_at)
        SELECT s.id, s.question_id, s.attempt_id, s.user_id, 0, COALESCE(s.finished_at, s.queued_at)
        FROM submissions s
        JOIN assessment_attempts a ON a.id = s.attempt_id
        JOIN assessments x ON x.id = a.assessment_id
        WHERE s.kind = 'code' AND s.status = 'graded' AND x.kind = 'assessment'
          AND NOT EXISTS (SELECT 1 FROM code_fingerprints f WHERE f.submission_id = s.id)
"""


def upgrade() -> None:
    op.execute("UPDATE code_fingerprints SET hashes = NULL, checked_at = NULL, claimed_until = NULL")
    op.execute(QUEUE_UNQUEUED)


def downgrade() -> None:
    pass  # the rows go with the table when 0021 is undone; kept ones are harmless
