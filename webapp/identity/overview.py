"""Figures for the admin overview."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.audit.models import AuditEvent
from webapp.identity.models import Role, User


@dataclass(frozen=True)
class AdminOverview:
    users_by_role: dict[str, int]
    inactive_users: int
    recent_events: list[AuditEvent]


def admin_overview(db: Session, *, recent: int = 10) -> AdminOverview:
    """User counts per role and the latest audit events."""
    counts = {role.value: 0 for role in Role}
    for role, count in db.execute(select(User.role, func.count()).group_by(User.role)):
        counts[role.value] = count
    inactive = db.scalar(select(func.count()).select_from(User).where(User.is_active.is_(False))) or 0
    events = db.scalars(
        select(AuditEvent).order_by(AuditEvent.at.desc()).limit(recent)
    ).all()
    return AdminOverview(users_by_role=counts, inactive_users=inactive, recent_events=list(events))
