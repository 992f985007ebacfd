"""Admission control: at most N requests inside the app at once; the rest wait their turn.

Why: sync dependencies and the endpoint each run on a worker thread (40 by default), and a
request goes back to the event loop between them while holding its database connection (and,
on SQLite, for a POST, the write lock). With more requests in flight than the connection
pool holds, every thread ends up waiting for a connection held by a request that is itself
waiting for a thread: a deadlock. Admitting fewer requests than there are threads, and
sizing the pool to admit them all plus the graders, makes that wait impossible. Waiting
requests cost a coroutine each, not a thread or a connection.

One semaphore per event loop, as anyio keeps its worker-thread limit per loop: a server has
one loop, but Starlette's TestClient runs each request in a loop of its own, and an asyncio
semaphore shared across loops (threads) loses its wake-ups.
"""

from __future__ import annotations

import asyncio
import weakref

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

UNLIMITED_PREFIXES = ("/static/",)  # files only: no database, no worker thread


class AdmissionLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.Semaphore] = weakref.WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = anyio.Semaphore(self.limit)
        async with slots:
            await self.app(scope, receive, send)
