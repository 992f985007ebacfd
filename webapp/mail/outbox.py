"""The Outbox as admins see it: the latest messages and their state, and "Retry now"."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.service import Actor, record_event
from webapp.core.db import utcnow
from webapp.core.errors import Conflict, NotFound
from webapp.mail.models import OutboxMessage


def recent_messages(db: Session, *, limit: int = 50) -> Sequence[OutboxMessage]:
    return db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)).all()


def retry_now(db: Session, *, message_id: int, actor: Actor) -> OutboxMessage:
    """Make a message that was not sent due at once (a failed one gets one more attempt); the caller
    delivers it after the commit."""
    message = db.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound({"form": "There is no such message in the outbox."})
    now = utcnow()
    if message.sent_at is not None:
        raise Conflict({"form": f"The message to {message.to} was already sent."})
    if message.claim_token is not None and message.next_attempt_at is not None and message.next_attempt_at > now:
        raise Conflict({"form": f"The message to {message.to} is being sent right now."})
    message.next_attempt_at, message.failed_at = now, None
    record_event(db, actor=actor, action="mail.retried", target=f"outbox:{message.id}",
                 summary=f"{message.to}: {message.subject}", details={"attempts": message.attempts})
    return message
