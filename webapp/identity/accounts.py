"""Accounts: registration, authentication, passwords, roles and deactivation."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import lru_cache
from zoneinfo import available_timezones

from argon2 import PasswordHasher
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.audit.service import record_event
from webapp.core.db import lock_keys
from webapp.core.errors import Invalid
from webapp.identity import throttle
from webapp.identity.models import Role, User
from webapp.identity.passwords import password_problem, verify_password
from webapp.identity.sessions import revoke_all_sessions
from webapp.identity.throttle import LoginPolicy, SignupChecks

INVALID_LOGIN = "Email or password is incorrect."


def normalize_email(email: str) -> str:
    """Validate and case-fold an address (raises Invalid on the ``email`` field)."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid({"email": str(exc)}) from None
    return result.normalized.casefold()


def find_user_by_email(db: Session, *, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == email.strip().casefold()))


def registration_errors(
    db: Session, *, email: str, display_name: str, password: str, signup: SignupChecks | None = None
) -> dict[str, str]:
    """Every problem with a registration form, by field (empty when it is acceptable). With ``signup``,
    finding that the email has an account is counted against the client (raises RateLimited past the limit)."""
    errors: dict[str, str] = {}
    try:
        normalized = normalize_email(email)
    except Invalid as exc:
        errors.update(exc.errors)
    else:
        if signup is not None:
            throttle.check_signup_allowed(db, checks=signup)
        if find_user_by_email(db, email=normalized) is not None:
            errors["email"] = "An account with this email already exists. Log in instead?"
            if signup is not None:
                throttle.record_existing_found(db, checks=signup)
    return errors | _profile_errors(email=email, display_name=display_name, password=password)


def registration_field_error(
    db: Session, *, field: str, email: str, display_name: str, password: str, signup: SignupChecks
) -> str:
    """One field's problem, for inline validation; only the email field looks the address up."""
    if field == "email":
        return registration_errors(db, email=email, display_name=display_name, password=password,
                                   signup=signup).get("email", "")
    return _profile_errors(email=email, display_name=display_name, password=password).get(field, "")


def _profile_errors(*, email: str, display_name: str, password: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = display_name.strip()
    if not name:
        errors["display_name"] = "Tell us what to call you."
    elif len(name) > 80:
        errors["display_name"] = "Use at most 80 characters."
    if problem := password_problem(password, email=email):
        errors["password"] = problem
    return errors


def create_user(
    db: Session,
    *,
    hasher: PasswordHasher,
    email: str,
    display_name: str,
    password: str,
    role: Role = Role.candidate,
    must_change_password: bool = False,
    signup: SignupChecks | None = None,
) -> User:
    """Create an account after validating every field (raises Invalid; RateLimited with ``signup``, the
    client's sign-up checks, once too many found existing accounts)."""
    # Hash before the first query, for the same reason as in authenticate().
    password_hash = hasher.hash(password) if password_problem(password, email=email) is None else ""
    if errors := registration_errors(db, email=email, display_name=display_name, password=password, signup=signup):
        raise Invalid(errors)
    user = User(
        email=normalize_email(email),
        display_name=display_name.strip(),
        password_hash=password_hash,
        role=role,
        must_change_password=must_change_password,
    )
    db.add(user)
    db.flush()
    return user


def authenticate(
    db: Session, *, hasher: PasswordHasher, email: str, password: str, client: str, devices: Mapping[int, str],
    policy: LoginPolicy,
) -> User:
    """The user for these credentials; raises TooManyAttempts or Invalid (one message for all).

    ``devices`` are the browser's device cookie ids by user id (identity/devices.py); which counts a
    failure goes to is in identity/throttle.py. The deliberately slow hash runs between two short
    transactions, never inside one: on SQLite a POST's transaction holds the database's only write
    lock, and log-ins would queue behind it.
    """
    user = find_user_by_email(db, email=email)
    limits = throttle.login_limits(email=email, client=client, policy=policy,
                                   device=devices.get(user.id) if user is not None else None)
    throttle.check_not_throttled(db, limits=limits)
    stored_hash = user.password_hash if user else _dummy_hash(hasher)
    db.commit()
    # Hash even for unknown emails so response time does not reveal which exist.
    valid = verify_password(hasher, stored_hash, password)
    new_hash = hasher.hash(password) if valid and hasher.check_needs_rehash(stored_hash) else None
    # Concurrent guesses all passed the first check: count again, one attempt at a time, so a
    # burst of parallel attempts learns no more answers than the limit allows.
    lock_keys(db, keys=[limit.key for limit in limits])
    throttle.check_not_throttled(db, limits=limits)
    if user is not None:
        db.refresh(user)  # deactivated or given a new password meanwhile?
    if user is None or not valid or not user.is_active or user.password_hash != stored_hash:
        throttle.record_failure(db, limits=limits)
        raise Invalid({"form": INVALID_LOGIN})
    throttle.clear_failures(db, limits=limits)
    if new_hash is not None:
        user.password_hash = new_hash
    return user


_DUMMY_HASHES: dict[int, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = id(hasher)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def change_password(
    db: Session, *, hasher: PasswordHasher, user: User, current_password: str, new_password: str
) -> None:
    """Change a password; every existing session of the user is revoked."""
    errors: dict[str, str] = {}
    if not verify_password(hasher, user.password_hash, current_password):
        errors["current_password"] = "Your current password is not correct."
    if problem := password_problem(new_password, email=user.email):
        errors["new_password"] = problem
    elif new_password == current_password:
        errors["new_password"] = "Choose a password different from the current one."
    if errors:
        raise Invalid(errors)
    user.password_hash = hasher.hash(new_password)
    user.must_change_password = False
    revoke_all_sessions(db, user=user)
    record_event(db, actor=user, action="user.password_changed", target=f"user:{user.id}")


def set_role(db: Session, *, user: User, role: Role, actor: User | None) -> None:
    """Change a user's role; their sessions are revoked so the new rights apply at once."""
    if user.role == role:
        return
    before = user.role
    user.role = role
    revoke_all_sessions(db, user=user)
    record_event(
        db, actor=actor, action="user.role_changed", target=f"user:{user.id}",
        summary=f"{user.email}: {before.value} → {role.value}",
        details={"before": before.value, "after": role.value},
    )


def set_active(db: Session, *, user: User, active: bool, actor: User | None) -> None:
    """Deactivate (signing the user out everywhere) or reactivate an account."""
    if user.is_active == active:
        return
    user.is_active = active
    if not active:
        revoke_all_sessions(db, user=user)
    record_event(
        db, actor=actor, action="user.reactivated" if active else "user.deactivated",
        target=f"user:{user.id}", summary=user.email,
    )


def logout_everywhere(db: Session, *, user: User) -> None:
    revoke_all_sessions(db, user=user)
    record_event(db, actor=user, action="user.logout_everywhere", target=f"user:{user.id}")


def ensure_first_admin(db: Session, *, hasher: PasswordHasher, email: str) -> tuple[User, str] | None:
    """Create an admin with a one-time password when there is none; None when one exists."""
    if db.scalar(select(func.count()).select_from(User).where(User.role == Role.admin)):
        return None
    password = secrets.token_urlsafe(12)
    existing = find_user_by_email(db, email=email)
    if existing is not None:
        existing.password_hash = hasher.hash(password)
        existing.must_change_password = True
        set_role(db, user=existing, role=Role.admin, actor=None)
        return existing, password
    user = create_user(
        db, hasher=hasher, email=email, display_name="Administrator", password=password,
        role=Role.admin, must_change_password=True,
    )
    record_event(db, actor=None, action="user.first_admin_created", target=f"user:{user.id}", summary=user.email)
    return user, password


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name this machine knows (tzdata), sorted."""
    return tuple(sorted(available_timezones()))


def set_time_zone(db: Session, *, user: User, time_zone: str) -> None:
    """Show times in ``time_zone`` ("" for the browser's own zone)."""
    if time_zone and time_zone not in time_zones():
        raise Invalid({"time_zone": "Choose a time zone from the list."})
    user.time_zone = time_zone
    db.flush()


def set_review_emails(db: Session, *, user: User, wanted: bool) -> None:
    user.review_emails = wanted
    db.flush()
