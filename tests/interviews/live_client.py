"""A scripted room client for tests and benchmarks: a pycrdt document speaking the y-websocket
protocol to a real server over a real WebSocket (the `websockets` package)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
from pycrdt import Decoder, Doc, Text, YMessageType, YSyncMessageType
from sqlalchemy.orm import Session
from websockets.sync.client import ClientConnection, connect

from tests.helpers import login
from webapp.identity.models import Role, User
from webapp.identity.passwords import make_hasher
from webapp.interviews.live import protocol
from webapp.interviews.live.protocol import AwarenessEntry
from webapp.interviews.models import Interview, InterviewQuestion
from webapp.questions.models import Question

PASSWORD = "correct horse battery staple"
_HASHER = make_hasher(memory_kib=19456, time_cost=2, parallelism=1)


def add_user(db: Session, email: str, role: Role = Role.candidate) -> User:
    user = User(email=email, display_name=email.split("@")[0], password_hash=_HASHER.hash(PASSWORD), role=role)
    db.add(user)
    db.flush()
    return user


def add_interview(db: Session, *, interviewer: User, candidate: User, slug: str) -> Interview:
    question = db.query(Question).filter_by(slug=slug).one()
    interview = Interview(interviewer_id=interviewer.id, candidate_id=candidate.id, title="Live test",
                          current_question_id=question.id,
                          questions=[InterviewQuestion(question_id=question.id,
                                                       revision_id=question.current_revision_id, position=1)])
    db.add(interview)
    db.flush()
    return interview


def session_cookie(base: str, email: str) -> str:
    with httpx.Client(base_url=base) as client:
        login(client, email, PASSWORD)
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def pump_all(peers: list[Peer], until: Callable[[], bool], *, timeout: float = 10) -> None:
    """Read every peer's socket in turn until ``until()`` holds (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            texts = [str(peer.text) for peer in peers]
            raise AssertionError(f"condition not met within {timeout} s; texts {texts!r}")
        for peer in peers:
            peer.receive_one(0.02 if len(peers) > 1 else 0.5)


class Peer:
    """One browser's side: its document, what it has heard, and its socket."""

    def __init__(self, base: str, interview_id: int, *, cookie: str, origin: str | None = None,
                 name: str = "code") -> None:
        self.doc: Doc[Any] = Doc()
        self.text_name = name
        self.signals: list[dict[str, Any]] = []
        self.awareness: dict[int, AwarenessEntry] = {}
        self.synced = False
        url = base.replace("http://", "ws://") + f"/interviews/{interview_id}/ws"
        self.socket: ClientConnection = connect(url, origin=origin or base,  # type: ignore[arg-type]
                                                additional_headers={"Cookie": cookie}, open_timeout=10, legacy=True)
        self.socket.send(protocol.sync_message(YSyncMessageType.SYNC_STEP1, self.doc.get_state()))

    @property
    def text(self) -> Text:
        return self.doc.get(self.text_name, type=Text)

    def type(self, at: int, chars: str) -> bytes:
        """Edit the local document and send the change, as the editor binding does."""
        before = self.doc.get_state()
        with self.doc.transaction():
            self.text.insert(min(at, len(self.text)), chars)
        update = self.doc.get_update(before)
        self.socket.send(protocol.sync_message(YSyncMessageType.SYNC_UPDATE, update))
        return update

    def send(self, message: bytes) -> None:
        self.socket.send(message)

    def pump(self, until: Callable[[], bool], *, timeout: float = 10) -> None:
        pump_all([self], until, timeout=timeout)

    def receive_one(self, wait: float) -> None:
        try:
            message = self.socket.recv(timeout=wait)
        except TimeoutError:
            return
        if isinstance(message, bytes):
            self.handle(message)

    def handle(self, message: bytes) -> None:
        kind, body = protocol.kind_of(message)
        if kind == YMessageType.SYNC:
            step, payload = protocol.sync_payload(body)
            if step == YSyncMessageType.SYNC_STEP1:
                self.socket.send(protocol.sync_message(YSyncMessageType.SYNC_STEP2, self.doc.get_update(payload)))
            else:
                self.doc.apply_update(payload)
                self.synced = self.synced or step == YSyncMessageType.SYNC_STEP2
        elif kind == YMessageType.AWARENESS:
            for entry in protocol.read_awareness(body):
                self.awareness[entry.client_id] = entry
        elif kind == protocol.SIGNAL:
            self.signals.append(json.loads(Decoder(body).read_var_string()))

    def close(self) -> None:
        self.socket.close()
