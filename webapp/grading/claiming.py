"""Claiming the oldest queued row of a small work table (a staged import's checks, example runs):
``SKIP LOCKED`` on PostgreSQL, one atomic ``UPDATE … RETURNING`` everywhere, and a random token
that only the claim's holder knows, so only it can store the result."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.core.db import utcnow


def claim_oldest(db: Session, model: Any, *, queued: object, running: object) -> tuple[int, str] | None:
    """Mark the oldest ``queued`` row of ``model`` as ``running`` for us: (its id, our token), or None.
    ``model`` has ``id``, ``status``, ``claim_token``, ``claimed_at`` and ``attempts`` columns."""
    oldest = select(model.id).where(model.status == queued).order_by(model.id).limit(1)
    if db.get_bind().dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    token = secrets.token_hex(16)
    claimed = db.execute(
        update(model)
        .where(model.id == oldest.scalar_subquery(), model.status == queued)
        .values(status=running, claim_token=token, claimed_at=utcnow(), attempts=model.attempts + 1)
        .returning(model.id).execution_options(synchronize_session=False)
    ).scalar()
    return None if claimed is None else (claimed, token)
