"""Log-in throttling, counted in the database so every web process sees the same numbers."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from webapp.core.db import utcnow
from webapp.core.errors import RateLimited
from webapp.identity.models import LoginFailure


class TooManyAttempts(RateLimited):
    """Too many failed log-ins; the web layer words the wait in minutes."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed log-in attempts: retry after {retry_after} s.", retry_after=retry_after)
        self.retry_after: int = retry_after


def throttle_keys(*, email: str, client: str) -> list[str]:
    return [f"account:{email.casefold()}"[:400], f"client:{client}"[:400]]


def check_not_throttled(db: Session, *, keys: list[str], limit: int, window: timedelta) -> None:
    """Raise TooManyAttempts when any key has ``limit`` failures inside the window."""
    now = utcnow()
    since = now - window
    for key in keys:
        count, oldest = db.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                LoginFailure.key == key, LoginFailure.at > since
            )
        ).one()
        if count >= limit:
            raise TooManyAttempts(_seconds_until(oldest + window, now))


def record_failure(db: Session, *, keys: list[str], window: timedelta) -> None:
    now = utcnow()
    db.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys), LoginFailure.at <= now - window))
    db.add_all(LoginFailure(key=key, at=now) for key in keys)


def clear_failures(db: Session, *, key: str) -> None:
    db.execute(delete(LoginFailure).where(LoginFailure.key == key))


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))
