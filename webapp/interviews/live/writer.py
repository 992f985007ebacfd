"""Appending the rooms' updates to the log in groups: every update that arrives while one
transaction commits goes into the next, so a process stores hundreds of edits a second with a
few commits instead of one commit each (SQLite's one writer, PostgreSQL's fsync). Each update
still waits for its own commit before the hub applies and relays it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import anyio.to_thread
from sqlalchemy.orm import Session

from webapp.core.db import Database, session_scope
from webapp.core.errors import ServiceError
from webapp.interviews import document

MAX_GROUP = 500


@dataclass
class _Pending:
    interview_id: int
    user_id: int
    payload: bytes
    done: asyncio.Future[document.Appended] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupWriter:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def append(self, *, interview_id: int, user_id: int, payload: bytes) -> document.Appended:
        """Where the update lies in the log once it is committed (or the refusal, e.g. DocumentFull)."""
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

    def _write(self, group: list[_Pending]) -> list[document.Appended | BaseException]:
        by_room: dict[int, list[int]] = {}
        for n, pending in enumerate(group):
            by_room.setdefault(pending.interview_id, []).append(n)
        outcomes: dict[int, document.Appended | BaseException] = {}
        with session_scope(self.database.write_session) as db:
            # Rooms locked in interview order: two processes writing to the same rooms cannot deadlock.
            for interview_id in sorted(by_room):
                self._write_room(db, interview_id, [(n, group[n]) for n in by_room[interview_id]], outcomes)
        return [outcomes[n] for n in range(len(group))]

    @staticmethod
    def _write_room(db: Session, interview_id: int, entries: list[tuple[int, _Pending]],
                    outcomes: dict[int, document.Appended | BaseException]) -> None:
        """One UPDATE and one INSERT for the room's whole share of the group; when that is refused
        (the document is full), one at a time, so what still fits is kept. A refusal changes
        nothing: no savepoint is needed."""
        batches = [entries] if len(entries) > 1 else []
        batches += [[entry] for entry in entries]
        stored: list[tuple[document.Appended, bytes]] = []
        for batch in batches:
            if all(n in outcomes for n, _ in batch):
                continue
            try:
                appended = document.append_rows(db, interview_id=interview_id,
                                                updates=[(pending.user_id, pending.payload) for _, pending in batch])
            except ServiceError as exc:
                if len(batch) == 1:
                    outcomes[batch[0][0]] = exc
                continue
            for (n, pending), row in zip(batch, appended, strict=True):
                outcomes[n] = row
                stored.append((row, pending.payload))
        if stored:  # one notice per room for the group; this process's rooms have the rows already
            document.announce(db, interview_id=interview_id, rows=stored, here=False)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
