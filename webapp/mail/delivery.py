"""Queueing and delivering email. Without an SMTP server configured (development), messages are
written to the log instead, and admins read them on the Outbox page.

A sender claims one due message at a time (``SKIP LOCKED`` on PostgreSQL; SQLite's writers are
serial), sends it outside any transaction, then stores the outcome while its claim still holds.
Two senders (two web processes, a sweep and a request's own delivery) never take the same message.
A message the server refuses is tried again after ``RETRY_AFTER``, up to ``MAX_ATTEMPTS`` in all,
then marked failed. A sender that dies mid-send loses its claim after ``CLAIM_FOR``; that message
is then sent again (delivery is at least once, and only a crash can make it twice).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.core.db import Database, rows_changed, session_scope, utcnow
from webapp.mail.models import OutboxMessage

log = logging.getLogger("rehearse.mail")
MAX_ATTEMPTS = 5
RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))  # after try n
CLAIM_FOR = timedelta(minutes=5)  # far longer than a send can take (every SMTP step has a 10 s timeout)
BATCH = 50  # messages one delivery round sends at most


@dataclass(frozen=True)
class SmtpServer:
    host: str  # "" for none: messages go to the log
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True
    sender: str = "Rehearse <rehearse@localhost>"
    timeout: float = 10


@dataclass(frozen=True)
class _Claim:
    id: int
    token: str
    attempt: int
    to: str
    subject: str
    body: str


def queue_message(db: Session, *, to: str, subject: str, body: str) -> OutboxMessage:
    """Keep a message to send once this transaction commits (``deliver_pending`` sends it)."""
    message = OutboxMessage(to=to, subject=subject[:200], body=body, next_attempt_at=utcnow())
    db.add(message)
    db.flush()
    return message


def deliver_pending(database: Database, *, server: SmtpServer) -> int:
    """Send the messages that are due (new ones, and retries whose time has come); returns how many
    went out. A round stops at its first failure: the server is likely down, and every further try
    would wait for its own timeout. The rest stay due for the next round."""
    with session_scope(database.read_session) as db:  # an idle sweep takes no write lock
        if db.scalar(select(OutboxMessage.id).where(OutboxMessage.next_attempt_at <= utcnow()).limit(1)) is None:
            return 0
    sent = 0
    for _ in range(BATCH):
        with session_scope(database.write_session) as db:
            claim = _claim_next(db)
        if claim is None:
            break
        try:
            via, error = _send(claim, server), ""
        except (OSError, smtplib.SMTPException) as exc:
            via, error = "", f"{type(exc).__name__}: {exc}"[:2000]
        with session_scope(database.write_session) as db:
            _record(db, claim=claim, via=via, error=error)
        if error:
            break
        sent += 1
    return sent


def _claim_next(db: Session) -> _Claim | None:
    now = utcnow()
    due = (select(OutboxMessage.id).where(OutboxMessage.next_attempt_at <= now)
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1))
    if db.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    token = secrets.token_hex(16)
    row = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == due.scalar_subquery(), OutboxMessage.next_attempt_at <= now)
        .values(next_attempt_at=now + CLAIM_FOR, claim_token=token, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.to, OutboxMessage.subject,
                   OutboxMessage.body)
        .execution_options(synchronize_session=False)
    ).first()
    return None if row is None else _Claim(row.id, token, row.attempts, row.to, row.subject, row.body)


def _record(db: Session, *, claim: _Claim, via: str, error: str) -> None:
    """The outcome of a send, stored only while our claim holds (else another sender has the message)."""
    now = utcnow()
    if not error:
        values: dict[str, object] = {"sent_at": now, "via": via, "error": "", "next_attempt_at": None}
    elif claim.attempt >= MAX_ATTEMPTS:
        values = {"error": error, "failed_at": now, "next_attempt_at": None}
        log.error("email %s to %s not sent, given up after %s attempts: %s", claim.id, claim.to, claim.attempt, error)
    else:
        retry = now + RETRY_AFTER[min(claim.attempt, len(RETRY_AFTER)) - 1]
        values = {"error": error, "next_attempt_at": retry}
        log.warning("email %s to %s not sent (attempt %s, next at %s): %s", claim.id, claim.to, claim.attempt,
                    f"{retry:%H:%M:%S} UTC", error)
    held = (OutboxMessage.id == claim.id) & (OutboxMessage.claim_token == claim.token)
    if not rows_changed(db, update(OutboxMessage).where(held).values(claim_token=None, **values)
                        .execution_options(synchronize_session=False)):
        log.warning("email %s: the claim lapsed while it was being sent; another sender has it", claim.id)


def _send(message: _Claim, server: SmtpServer) -> str:
    if not server.host:
        log.info("email (no SMTP server set, so logged) to %s: %s\n%s", message.to, message.subject, message.body)
        return "log"
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = server.sender, message.to, message.subject
    email.set_content(message.body)
    with smtplib.SMTP(server.host, server.port, timeout=server.timeout) as smtp:
        if server.starttls:
            smtp.starttls()
        if server.username:
            smtp.login(server.username, server.password)
        smtp.send_message(email)
    return "smtp"
