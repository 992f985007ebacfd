"""Appending the rooms' updates to the log in groups: every update that arrives while one
transaction commits goes into the next, so a process stores hundreds of edits a second with a
few commits instead of one commit each (SQLite's one writer, PostgreSQL's fsync). Each update
still waits for its own commit before the hub applies and relays it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import anyio.to_thread

from webapp.core.db import Database, session_scope
from webapp.core.errors import ServiceError
from webapp.interviews import document

MAX_GROUP = 500


@dataclass
class _Pending:
    interview_id: int
    user_id: int
    payload: bytes
    done: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupWriter:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def append(self, *, interview_id: int, user_id: int, payload: bytes) -> int:
        """The update's row id once it is committed (or the refusal, e.g. DocumentFull)."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())
        pending = _Pending(interview_id, user_id, payload)
        await self._queue.put(pending)
        return await pending.done

    async def _run(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < MAX_GROUP and not self._queue.empty():
                group.append(self._queue.get_nowait())
            try:
                outcomes = await anyio.to_thread.run_sync(self._write, group)
            except Exception as exc:  # the whole transaction failed: every update in it is refused
                outcomes = [exc] * len(group)
            for pending, outcome in zip(group, outcomes, strict=True):
                if not pending.done.done():
                    if isinstance(outcome, BaseException):
                        pending.done.set_exception(outcome)
                    else:
                        pending.done.set_result(outcome)

    def _write(self, group: list[_Pending]) -> list[int | BaseException]:
        # Rows locked in interview order: two processes writing to the same rooms cannot deadlock.
        order = sorted(range(len(group)), key=lambda n: group[n].interview_id)
        outcomes: dict[int, int | BaseException] = {}
        last: dict[int, int] = {}
        with session_scope(self.database.write_session) as db:
            for n in order:
                pending = group[n]
                try:  # a refusal (a full document, an ended interview) changes nothing: no savepoint needed
                    outcomes[n] = row_id = document.append_to_log(db, interview_id=pending.interview_id,
                                                                  user_id=pending.user_id, payload=pending.payload,
                                                                  announce=False)
                    last[pending.interview_id] = row_id
                except ServiceError as exc:
                    outcomes[n] = exc
            for interview_id, row_id in last.items():  # one notice per room for the group
                document.announce_rows(db, interview_id=interview_id, last_id=row_id)
        return [outcomes[n] for n in range(len(group))]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
