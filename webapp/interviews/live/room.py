"""A room of one process: its document, the connections in it, who owns which awareness id."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from pycrdt import Doc

from webapp.interviews.live.protocol import AwarenessEntry, Identity

log = logging.getLogger("rehearse.interviews")

RATE_PER_SECOND, BURST = 50.0, 300.0  # messages per connection: typing is ~10/s, a paste one


class Channel(Protocol):
    async def send(self, message: bytes) -> None: ...
    async def close(self, code: int, reason: str) -> None: ...


@dataclass(eq=False)
class Client:
    channel: Channel
    identity: Identity
    is_candidate: bool
    tokens: float = BURST
    stamp: float = field(default_factory=time.monotonic)
    client_ids: set[int] = field(default_factory=set)

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.stamp) * RATE_PER_SECOND)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass(eq=False)
class Room:
    interview_id: int
    doc: Doc[Any]
    last_id: int  # every row of the log up to this one is in ``doc``
    applied: int  # and the log's size in bytes up to there
    finished: bool
    clients: set[Client] = field(default_factory=set)
    awareness: dict[int, AwarenessEntry] = field(default_factory=dict)
    owners: dict[int, Client] = field(default_factory=dict)
    ahead: dict[int, tuple[int, int]] = field(default_factory=dict)  # start -> (end, last id): in doc, past a gap
    catching_up: bool = False
    behind: bool = False

    def cover(self, *, start: int, end: int, last_id: int) -> None:
        """Rows from ``start`` to ``end`` bytes of the log are in the document. Rows can arrive
        out of log order (this process's own commit before another's earlier notice); applying
        them early is safe for a CRDT, and the gap closes when the missing notice comes."""
        if end <= self.applied:
            return
        if start > self.applied:
            self.ahead[start] = (end, last_id)
            return
        self.applied, self.last_id = end, max(self.last_id, last_id)
        while (following := self.ahead.pop(self.applied, None)) is not None:
            self.applied, self.last_id = following[0], max(self.last_id, following[1])
        if self.ahead:
            for start_at in [s for s in self.ahead if s < self.applied]:
                del self.ahead[start_at]

    def has(self, *, end: int) -> bool:
        return end <= self.applied or any(stop == end for stop, _ in self.ahead.values())

    async def send_all(self, message: bytes, *, but: Client | None = None) -> None:
        for client in list(self.clients):
            if client is not but:
                try:
                    await client.channel.send(message)
                except Exception:  # a connection going away; its own loop ends it
                    log.debug("could not send to a client of interview %s", self.interview_id)
