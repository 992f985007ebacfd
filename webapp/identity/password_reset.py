"""Resetting a forgotten password by email: a signed link that expires after an hour and works
once (it carries a fingerprint of the password it replaces, so it dies when that changes).

The answer to "send me a link" is the same whether or not the address has an account; requests
are limited per client address (identity/throttle.py) so the form cannot flood anyone's inbox.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from argon2 import PasswordHasher
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from webapp.audit.service import record_event
from webapp.core.errors import Invalid, NotFound, RateLimited
from webapp.identity import throttle
from webapp.identity.accounts import find_user_by_email
from webapp.identity.models import User
from webapp.identity.passwords import password_problem
from webapp.identity.sessions import revoke_all_sessions
from webapp.mail.delivery import queue_message

LINK_LIFETIME = timedelta(hours=1)
REQUESTS_PER_ADDRESS = 5  # in REQUEST_WINDOW
REQUEST_WINDOW = timedelta(minutes=15)
_SALT = "rehearse.password-reset"
EXPIRED = "This link has expired or was already used. Ask for a new one."


def request_reset(db: Session, *, email: str, client: str, public_url: str, secret: str) -> None:
    """Email a reset link if ``email`` has an active account; say nothing either way."""
    limits = [throttle.Limit(f"reset:{throttle.client_key(client)}"[:400], REQUESTS_PER_ADDRESS, REQUEST_WINDOW)]
    try:
        throttle.check_not_throttled(db, limits=limits)
    except throttle.TooManyAttempts as exc:
        minutes = max(1, round(exc.retry_after / 60))
        raise RateLimited({"email": f"Too many reset requests from your network. Try again in about {minutes} "
                                    f"minute{'s' if minutes > 1 else ''}."}, retry_after=exc.retry_after) from None
    throttle.record_failure(db, limits=limits)  # every request counts, whether the address has an account or not
    user = find_user_by_email(db, email=email)
    if user is None or not user.is_active:
        return
    token = _signer(secret).dumps({"user": user.id, "password": _fingerprint(user)})
    link = f"{public_url.rstrip('/')}/password/reset/{token}"
    queue_message(db, to=user.email, subject="Reset your Rehearse password", body=(
        f"Hello {user.display_name},\n\nSomeone (we hope you) asked to reset the password of your Rehearse "
        f"account. Choose a new one here within the hour:\n\n{link}\n\nThe link works once. If you did not "
        "ask, ignore this email: your password stays as it is.\n"))
    record_event(db, actor=None, action="user.password_reset_requested", target=f"user:{user.id}")


def user_for_link(db: Session, *, token: str, secret: str) -> User:
    """The account a link resets (NotFound when it is expired, forged or already used)."""
    try:
        data = _signer(secret).loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
        user = db.get(User, int(data["user"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound(EXPIRED) from None
    if user is None or not user.is_active or data.get("password") != _fingerprint(user):
        raise NotFound(EXPIRED)
    return user


def reset_password(db: Session, *, hasher: PasswordHasher, token: str, secret: str, new_password: str) -> User:
    """Set the new password; every session of the account ends and the link stops working."""
    user = user_for_link(db, token=token, secret=secret)
    if problem := password_problem(new_password, email=user.email):
        raise Invalid({"new_password": problem})
    user.password_hash = hasher.hash(new_password)
    user.must_change_password = False
    revoke_all_sessions(db, user=user)
    record_event(db, actor=user, action="user.password_reset", target=f"user:{user.id}")
    return user


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.password_hash}:{user.session_version}".encode()).hexdigest()[:20]
