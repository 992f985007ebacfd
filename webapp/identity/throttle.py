"""Log-in throttling after OWASP's authentication guidance, counted in the database so every web
process sees the same numbers.

A failed log-in from a browser that has not logged in to the account before counts against:

- the account *and* the client address together (``pair:``): a short lock for that address only,
  so the owner elsewhere is not affected;
- the client address, whatever the account (``client:``): one address guessing across accounts;
  other addresses are not affected;
- the account, from anywhere (``account:``): a slow daily budget, then an exponentially growing
  wait, against guessing spread over many addresses.

A browser holding a device cookie for the account (identity/devices.py: it logged in to it before)
counts only against that cookie (``device:``): however hard an attacker elsewhere guesses, the
owner's browsers keep their own small budget. Unknown emails are counted exactly like accounts
that exist, so the answers tell nothing about which exist. IPv6 clients count by /64, the block
one subscriber is usually given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv6Address, ip_address, ip_network

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from webapp.core.db import utcnow
from webapp.core.errors import RateLimited
from webapp.identity.models import LoginFailure

KEEP_FAILURES = timedelta(hours=24)  # the longest window any count looks at; older rows are pruned


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5  # per account and client address, and per known browser, in `window`
    window: timedelta = timedelta(minutes=15)
    client_max_failures: int = 25  # per client address across accounts, in `window`
    account_max_failures: int = 10  # per account from unknown browsers, in a day, before back-off
    first_backoff: timedelta = timedelta(minutes=1)  # doubled by every further failure
    longest_backoff: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Limit:
    """One count: at ``max_failures`` inside ``window``, wait until the oldest leaves the window, or
    with ``backoff`` (first, longest) wait from the newest, doubling with each failure past the limit."""

    key: str
    max_failures: int
    window: timedelta
    backoff: tuple[timedelta, timedelta] | None = None

    def locked_until(self, *, count: int, oldest: datetime, newest: datetime) -> datetime | None:
        if count < self.max_failures:
            return None
        if self.backoff is None:
            return oldest + self.window
        first, longest = self.backoff
        return newest + min(first * (1 << min(count - self.max_failures, 20)), longest)


class TooManyAttempts(RateLimited):
    """Too many failed log-ins; the web layer words the wait in minutes."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed log-in attempts: retry after {retry_after} s.", retry_after=retry_after)
        self.retry_after: int = retry_after


def client_key(address: str) -> str:
    """What one client is counted as: its IPv4 address, its IPv6 /64, or the text given."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def login_limits(*, email: str, client: str, device: str | None, policy: LoginPolicy) -> list[Limit]:
    """The counts a log-in attempt is checked against; ``device`` is the nonce of a valid device cookie
    for this account (None for any other browser, and always for unknown emails)."""
    account = email.strip().casefold()[:320]
    if device is not None:
        return [Limit(f"device:{device}"[:400], policy.max_failures, policy.window)]
    address = client_key(client)
    return [
        Limit(f"pair:{account}|{address}", policy.max_failures, policy.window),
        Limit(f"client:{address}", policy.client_max_failures, policy.window),
        Limit(f"account:{account}", policy.account_max_failures, KEEP_FAILURES,
              backoff=(policy.first_backoff, policy.longest_backoff)),
    ]


def check_not_throttled(db: Session, *, limits: list[Limit]) -> None:
    """Raise TooManyAttempts (with the longest wait) when any limit is reached."""
    now = utcnow()
    until = max((moment for limit in limits if (moment := _locked_until(db, limit, now)) is not None), default=None)
    if until is not None and until > now:
        raise TooManyAttempts(_seconds_until(until, now))


def record_failure(db: Session, *, limits: list[Limit]) -> None:
    now = utcnow()
    db.execute(delete(LoginFailure).where(LoginFailure.at <= now - KEEP_FAILURES))
    db.add_all(LoginFailure(key=limit.key, at=now) for limit in limits)


def clear_failures(db: Session, *, limits: list[Limit]) -> None:
    """After a successful log-in: this address's (or browser's) count for the account starts again. The
    address's count across accounts and the account's own do not: logging in to an account of one's own
    must not buy more guesses at others, nor the owner's log-in more guesses at theirs."""
    keys = [limit.key for limit in limits if limit.key.startswith(("pair:", "device:"))]
    db.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))


def clear_account(db: Session, *, email: str, user_id: int | None) -> int:
    """Every count that holds back log-ins to this account (an administrator's unlock); how many were removed."""
    account = email.strip().casefold()
    conditions = [LoginFailure.key == f"account:{account}",
                  LoginFailure.key.startswith(f"pair:{account}|", autoescape=True)]
    if user_id is not None:
        conditions.append(LoginFailure.key.startswith(f"device:{user_id}.", autoescape=True))
    result = db.execute(delete(LoginFailure).where(or_(*conditions)))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class SignupChecks:
    """Sign-up checks that found an existing account, rationed per client address: new addresses are
    never counted (a classroom can sign up together), the answer an enumerator is after is."""

    client: str
    max_existing: int
    window: timedelta

    @property
    def limit(self) -> Limit:
        return Limit(f"signup:{client_key(self.client)}", self.max_existing, self.window)


def check_signup_allowed(db: Session, *, checks: SignupChecks) -> None:
    now = utcnow()
    until = _locked_until(db, checks.limit, now)
    if until is not None and until > now:
        wait = _seconds_until(until, now)
        minutes = max(1, round(wait / 60))
        raise RateLimited({"email": "Too many sign-up attempts for existing accounts from your network. "
                                    f"Try again in about {minutes} minute{'s' if minutes > 1 else ''}."},
                          retry_after=wait)


def record_existing_found(db: Session, *, checks: SignupChecks) -> None:
    db.add(LoginFailure(key=checks.limit.key, at=utcnow()))


def _locked_until(db: Session, limit: Limit, now: datetime) -> datetime | None:
    count, oldest, newest = db.execute(
        select(func.count(), func.min(LoginFailure.at), func.max(LoginFailure.at)).where(
            LoginFailure.key == limit.key, LoginFailure.at > now - limit.window
        )
    ).one()
    if not count:
        return None
    return limit.locked_until(count=count, oldest=oldest, newest=newest)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))
