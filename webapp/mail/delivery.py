"""Queueing and delivering email. Without an SMTP server configured (development), messages are
written to the log instead, and admins read them on the Outbox page."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.core.db import Database, session_scope, utcnow
from webapp.mail.models import OutboxMessage

log = logging.getLogger("rehearse.mail")
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SmtpServer:
    host: str  # "" for none: messages go to the log
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True
    sender: str = "Rehearse <rehearse@localhost>"
    timeout: float = 10


def queue_message(db: Session, *, to: str, subject: str, body: str) -> OutboxMessage:
    """Keep a message to send once this transaction commits (``deliver_pending`` sends it)."""
    message = OutboxMessage(to=to, subject=subject[:200], body=body)
    db.add(message)
    db.flush()
    return message


def deliver_pending(database: Database, *, server: SmtpServer) -> int:
    """Send every message not sent yet (up to its attempts); returns how many went out."""
    with session_scope(database.write_session) as db:
        pending = db.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                                         OutboxMessage.attempts < MAX_ATTEMPTS)
                             .order_by(OutboxMessage.id).limit(50)).all()
        sent = 0
        for message in pending:
            message.attempts += 1
            try:
                message.via = _send(message, server)
            except (OSError, smtplib.SMTPException) as exc:
                message.error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("email %s to %s not sent (attempt %s): %s", message.id, message.to, message.attempts,
                            message.error)
                continue
            message.sent_at, message.error = utcnow(), ""
            sent += 1
    return sent


def recent_messages(db: Session, *, limit: int = 50) -> Sequence[OutboxMessage]:
    return db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).all()


def _send(message: OutboxMessage, server: SmtpServer) -> str:
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
