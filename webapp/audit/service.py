"""Recording audit events."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from webapp.identity.models import User
from webapp.audit.models import AuditEvent


def record_event(
    db: Session,
    *,
    actor: User | None,
    action: str,
    target: str = "",
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (it commits with the change it records)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        target=target[:200],
        summary=summary[:500],
        details=details or {},
    )
    db.add(event)
    return event
