"""A room of one process: its document, the connections in it, who owns which awareness id."""

from __future__ import annotations

import asyncio
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
    last_id: int
    finished: bool
    clients: set[Client] = field(default_factory=set)
    awareness: dict[int, AwarenessEntry] = field(default_factory=dict)
    owners: dict[int, Client] = field(default_factory=dict)
    own_ids: set[int] = field(default_factory=set)  # rows this process appended, not yet caught up past
    catching_up: bool = False
    behind: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send_all(self, message: bytes, *, but: Client | None = None) -> None:
        for client in list(self.clients):
            if client is not but:
                try:
                    await client.channel.send(message)
                except Exception:  # a connection going away; its own loop ends it
                    log.debug("could not send to a client of interview %s", self.interview_id)
