"""Reading the audit log with filters and keyset pagination."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.models import AuditEvent
from webapp.core.inputs import Day, Id, Line
from webapp.core.listing import ListFilters, split_page

PER_PAGE = 50


class AuditFilters(ListFilters):
    cursor = ("before",)

    actor: Line = Field(default="", max_length=320)
    action: Line = Field(default="", max_length=64)
    since: Day | None = None  # bounded, so a day's end (+1 day) is always a datetime
    until: Day | None = None
    before: Id | None = None


@dataclass
class AuditPage:
    items: Sequence[AuditEvent]
    next_before: int | None
    actions: list[str]


def _day_start(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def days_zone(time_zone: str) -> tzinfo:
    """The zone whose days ``since`` and ``until`` name: the viewer's (the page shows times in it), else UTC."""
    try:
        return ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def list_events(db: Session, *, filters: AuditFilters, time_zone: str = "") -> AuditPage:
    """Events newest first; ``actor`` matches an email ("system" for the command line); the days are
    those of ``time_zone`` (the viewer's; UTC when none)."""
    zone = days_zone(time_zone)
    statement = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.actor.strip().lower() == "system":
        statement = statement.where(AuditEvent.actor_id.is_(None))
    elif filters.actor.strip():
        statement = statement.where(AuditEvent.actor_email == filters.actor.strip().casefold())
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.since:
        statement = statement.where(AuditEvent.at >= _day_start(filters.since, zone))
    if filters.until:
        statement = statement.where(AuditEvent.at < _day_start(filters.until + timedelta(days=1), zone))
    if filters.before:
        statement = statement.where(AuditEvent.id < filters.before)
    items, last = split_page(list(db.scalars(statement.limit(PER_PAGE + 1))), PER_PAGE)
    actions = list(db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    return AuditPage(items=items, next_before=last.id if last else None, actions=actions)
