"""Recording audit events."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from webapp.audit.models import AuditEvent


class Actor(Protocol):
    """Whoever acts: a signed-in user (the log keeps their id and their email of the moment)."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


def record_event(
    db: Session,
    *,
    actor: Actor | None,
    action: str,
    target: str = "",
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (it commits with the change it records)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "",
        action=action,
        target=target[:200],
        summary=summary[:500],
        details=details or {},
    )
    db.add(event)
    return event


def record_view(db: Session, *, actor: Actor | None, action: str, target: str = "", summary: str = "",
                details: dict[str, Any] | None = None) -> None:
    """Audit what a read (a GET) showed, in a short write transaction of its own, committed now.
    The read's own transaction must stay a read: on SQLite one that then writes fails at once
    ("database is locked") when any other write has committed since it began."""
    bind = db.get_bind()
    with Session(bind.execution_options(sqlite_begin="IMMEDIATE")) as own, own.begin():
        record_event(own, actor=actor, action=action, target=target, summary=summary, details=details)
