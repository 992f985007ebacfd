"""Browser sessions: what the signed session cookie holds, and when it is still valid.

The web layer hands over the cookie's contents (Starlette's ``request.session``). The cookie
holds the id of an ``AuthSession`` row, the user id, the user's
session_version, when the session was issued and when it was last used. A session
is valid only while its row exists (logout deletes it), the user is active, the
version still matches (bumped to revoke every session at once) and neither the
idle nor the absolute timeout has passed.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from webapp.core.config import Settings
from webapp.core.db import utcnow
from webapp.identity.models import AuthSession, User

_AUTH_KEYS = ("sid", "uid", "sv", "iat", "seen")
_SEEN_RESOLUTION = 60  # seconds: last_seen is refreshed at most this often


CookieData = MutableMapping[str, Any]

# The session's row and its user in one query by primary keys, run on every signed-in request.
# Built once: building it per request cost more than running it (bench/request_profile.py).
_SESSION_USER = (select(User).join(AuthSession, AuthSession.user_id == User.id)
                 .where(AuthSession.id == bindparam("sid"), User.id == bindparam("uid")))


def start_session(cookie: CookieData, db: Session, *, user: User, user_agent: str) -> None:
    """Sign the user in with a brand-new session (the old cookie's content is discarded)."""
    row = AuthSession(id=secrets.token_urlsafe(32), user_id=user.id, user_agent=user_agent[:255])
    db.add(row)
    now = int(utcnow().timestamp())
    flashes = cookie.get("_flashes", [])
    cookie.clear()
    cookie.update(
        sid=row.id, uid=user.id, sv=user.session_version, iat=now, seen=now,
        csrf=secrets.token_urlsafe(32),
    )
    if flashes:
        cookie["_flashes"] = flashes


def end_session(cookie: CookieData, db: Session) -> None:
    """Log this browser out: its session row is deleted, so a replayed cookie is worthless."""
    sid = cookie.get("sid")
    if isinstance(sid, str):
        row = db.get(AuthSession, sid)
        if row is not None:
            db.delete(row)
    cookie.clear()


def load_session_user(data: CookieData, db: Session, *, settings: Settings) -> User | None:
    """The signed-in user, or None (a stale, revoked or malformed session is cleared)."""
    if "sid" not in data:
        return None
    user = _validate(data, db, settings=settings)
    if user is None:
        for key in _AUTH_KEYS:
            data.pop(key, None)
        return None
    now = int(utcnow().timestamp())
    if now - data["seen"] >= _SEEN_RESOLUTION:
        data["seen"] = now
    return user


def _validate(data: CookieData, db: Session, *, settings: Settings) -> User | None:
    sid, uid, version = data.get("sid"), data.get("uid"), data.get("sv")
    issued, seen = data.get("iat"), data.get("seen")
    if not (isinstance(sid, str) and isinstance(uid, int) and isinstance(version, int)
            and isinstance(issued, int) and isinstance(seen, int)):
        return None
    now = utcnow().timestamp()
    if now - seen > settings.session_idle_minutes * 60:
        return None
    if now - issued > timedelta(days=settings.session_absolute_days).total_seconds():
        return None
    user = db.scalar(_SESSION_USER, {"sid": sid, "uid": uid})
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


def revoke_all_sessions(db: Session, *, user: User) -> None:
    """Invalidate every session of the user, on every device."""
    user.session_version += 1
    for row in list(user.sessions):
        db.delete(row)
