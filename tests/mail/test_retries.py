"""Email the SMTP server refused is tried again on a schedule by the outbox sweep, given up after
its last attempt (and shown so on the Outbox page), sent at once by "Retry now", and never sent
twice by two sweeps at once. Against a real SMTP server (aiosmtpd on loopback) that refuses until
it is told to accept."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.helpers import login, post_form, wait_for
from webapp.audit.models import AuditEvent
from webapp.core.db import session_scope, utcnow
from webapp.identity.models import Role
from webapp.mail.delivery import MAX_ATTEMPTS, RETRY_AFTER, deliver_pending, queue_message
from webapp.mail.models import OutboxMessage
from webapp.main import create_app
from webapp.web.deps import smtp_server


class MailServer:
    """Refuses every message with a 451 ("try again later") while ``refusing``; keeps the rest."""

    def __init__(self) -> None:
        self.refusing = True
        self.refused = 0
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        await asyncio.sleep(0.005)  # a real server takes a moment: two senders overlap
        if self.refusing:
            self.refused += 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    @property
    def subjects(self) -> list[str]:
        return sorted(str(m["Subject"]) for m in self.messages)


@pytest.fixture
def mail_server() -> Iterator[tuple[MailServer, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = MailServer()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def mail_app(settings, mail_server):
    """The app sending through ``mail_server``, its outbox swept every 50 ms (the thread runs while a
    TestClient holds the app open)."""
    _, port = mail_server
    application = create_app(settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False, "mail_sweep_seconds": 0.05}))
    yield application
    application.state.db.dispose()


def _messages(app) -> list[OutboxMessage]:
    with session_scope(app.state.db.read_session) as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _queue(app, count: int = 1) -> None:
    with session_scope(app.state.db.write_session) as db:
        for n in range(count):
            queue_message(db, to=f"ada{n}@example.com", subject=f"Message {n:02d}", body="Hello.")


def _sweep(app) -> int:
    return deliver_pending(app.state.db, server=smtp_server(app.state.settings))


def test_a_refused_message_is_sent_by_the_sweep_once_the_server_accepts(mail_app, mail_server, make_user) -> None:
    server, _ = mail_server
    make_user(email="ada@example.com")
    with TestClient(mail_app) as browser:  # the lifespan starts the sweeper thread
        post_form(browser, "/password/forgot", {"email": "ada@example.com"}, token_page="/password/forgot")
        [refused] = wait_for(lambda: [m for m in _messages(mail_app) if m.error], timeout=10,
                             message="the first attempt to fail")
        assert refused.attempts == 1 and "451" in refused.error and refused.sent_at is None
        assert refused.next_attempt_at > utcnow() + timedelta(seconds=50)  # a minute after the first try
        server.refusing = False
        assert _sweep(mail_app) == 0 and server.messages == []  # not due yet: nothing is tried
        with time_machine.travel(utcnow() + RETRY_AFTER[0] + timedelta(seconds=1), tick=True):
            wait_for(lambda: all(m.sent_at for m in _messages(mail_app)), timeout=10,
                     message="the sweep to send the message")
        [sent] = _messages(mail_app)  # the same message: no other was queued to push it out
        assert sent.sent_at is not None and sent.attempts == 2 and sent.error == "" and sent.next_attempt_at is None
        assert server.refused == 1 and len(server.messages) == 1 and server.messages[0]["To"] == "ada@example.com"


def test_a_message_past_its_last_attempt_is_marked_failed_and_shown_so(mail_app, mail_server, make_user) -> None:
    server, _ = mail_server
    _queue(mail_app)
    assert _sweep(mail_app) == 0 and server.refused == 1  # the first attempt
    tried_at = utcnow()
    for wait in RETRY_AFTER:  # each retry once its time has come, and not before
        with time_machine.travel(tried_at + wait - timedelta(seconds=5), tick=False):
            assert _sweep(mail_app) == 0
            tried = server.refused
        tried_at += wait + timedelta(seconds=1)
        with time_machine.travel(tried_at, tick=False):
            assert _sweep(mail_app) == 0 and server.refused == tried + 1
    [failed] = _messages(mail_app)
    assert failed.attempts == MAX_ATTEMPTS == server.refused and failed.failed_at is not None
    assert failed.next_attempt_at is None and "451" in failed.error
    with time_machine.travel(tried_at + timedelta(days=30), tick=False):
        assert _sweep(mail_app) == 0 and server.refused == MAX_ATTEMPTS  # given up: never tried again
    with TestClient(mail_app) as admin:
        login(admin, make_user(Role.admin).email, PASSWORD)
        page = admin.get("/admin/outbox").text
    assert f"<strong>failed</strong> after {MAX_ATTEMPTS} attempts" in page and "Mailbox busy, try again later" in page
    assert "Retry now" in page


def test_retry_now_sends_a_failed_message_at_once_and_is_audited(mail_app, mail_server, make_user) -> None:
    server, _ = mail_server
    _queue(mail_app)
    with session_scope(mail_app.state.db.write_session) as db:  # as the schedule leaves it
        message = db.scalars(select(OutboxMessage)).one()
        message.attempts, message.error, message.failed_at, message.next_attempt_at = 5, "451 busy", utcnow(), None
    admin_user = make_user(Role.admin)
    with TestClient(mail_app) as admin, TestClient(mail_app) as candidate:
        login(admin, admin_user.email, PASSWORD)
        login(candidate, make_user().email, PASSWORD)
        retry = f"/admin/outbox/{message.id}/retry"
        assert post_form(candidate, retry, token_page="/progress").status_code == 403

        refused = post_form(admin, retry, token_page="/admin/outbox")  # still refused: failed again, one try more
        assert refused.status_code == 303 and refused.headers["location"] == "/admin/outbox"
        wait_for(lambda: server.refused == 1, timeout=10, message="the retry")
        [again] = wait_for(lambda: [m for m in _messages(mail_app) if m.failed_at and m.attempts == 6], timeout=10,
                           message="the retry to fail")
        assert again.next_attempt_at is None and again.claim_token is None

        server.refusing = False
        assert post_form(admin, retry, token_page="/admin/outbox").status_code == 303
        wait_for(lambda: server.messages, timeout=10, message="the message to arrive")
        [sent] = wait_for(lambda: [m for m in _messages(mail_app) if m.sent_at], timeout=10, message="it sent")
        assert sent.failed_at is None and sent.error == "" and sent.attempts == 7
        assert "Sending the message to ada0@example.com again now" in admin.get("/admin/outbox").text
        with session_scope(mail_app.state.db.read_session) as db:
            events = db.scalars(select(AuditEvent).where(AuditEvent.action == "mail.retried")).all()
        assert [e.actor_email for e in events] == [admin_user.email] * 2 and events[0].target == f"outbox:{message.id}"

        already = post_form(admin, retry, token_page="/admin/outbox")
        assert already.status_code == 409 and "already sent" in already.text
        assert post_form(admin, "/admin/outbox/999999/retry", token_page="/admin/outbox").status_code == 404
    assert len(server.messages) == 1


def test_two_sweeps_at_once_send_each_message_once(mail_app, mail_server) -> None:
    server, _ = mail_server
    server.refusing = False
    _queue(mail_app, 30)
    start = threading.Barrier(2)
    sent: list[int] = []

    def sweep() -> None:
        start.wait()
        sent.append(_sweep(mail_app))

    sweepers = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in sweepers:
        thread.start()
    for thread in sweepers:
        thread.join(60)
    assert sum(sent) == 30 and all(sent), sent  # both sent some, together each message once
    assert server.subjects == [f"Message {n:02d}" for n in range(30)]
    with session_scope(mail_app.state.db.read_session) as db:
        assert db.scalar(select(func.count()).where(OutboxMessage.attempts != 1)) == 0
        assert db.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
