"""The rooms of one web process. A room holds the interview's document (pycrdt), loaded from
its log when the first person in this process joins, and the connections in it.

An update from a browser is checked on a scratch document, appended to the log (its own short
write transaction, in a worker thread) and only then applied and sent to the others: nothing
anyone has seen can be lost by a restart. Other processes' updates (and the server's own,
made in a request) arrive as notices carrying them (the relay, or this process's own commits);
a notice too big for NOTIFY, or a relay that reconnected, makes the room read the log after
the last row it has without a gap.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio.to_thread
from pycrdt import Doc, YMessageType, YSyncMessageType

from webapp.core.db import Database, session_scope
from webapp.interviews import document, notices
from webapp.interviews.document import DocumentFull, InterviewEnded
from webapp.interviews.live import protocol
from webapp.interviews.live.protocol import AwarenessEntry, BadMessage, Identity
from webapp.interviews.live.relay import RoomListener, publish_awareness
from webapp.interviews.live.room import Channel, Client, Room
from webapp.interviews.live.writer import GroupWriter
from webapp.interviews.models import Interview

log = logging.getLogger("rehearse.interviews")

MAX_FRAME_BYTES = 256 * 1024
QUERY_AWARENESS = 3
# In the 4400s, which the y-websocket client takes as final (it stops reconnecting and the page
# says why), unlike 1008/1009, after which it would resend the refused edit for ever.
POLICY, SERVER_ERROR, BAD_MESSAGE, TOO_BIG, TOO_MANY = 1008, 1011, 4400, 4413, 4429


class NotStored(Exception):
    """An update the log refused for a reason of its own (an outage, a deadlock): not relayed."""


def _nothing() -> None:
    pass


class Hub:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.rooms: dict[int, Room] = {}
        self.writer = GroupWriter(database)
        self._loading: dict[int, asyncio.Task[Room]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_listening: Callable[[], None] = _nothing
        self.listener: RoomListener | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # A second start (another client of the same app runs the lifespan again) takes over the
        # hooks and keeps the one LISTEN connection: a second listener would never be stopped.
        self._stop_listening()
        self._stop_listening = notices.listen(self._from_any_thread)
        if self.database.engine.dialect.name == "postgresql" and self.listener is None:
            self.listener = RoomListener(self.database.engine, on_notice=self._from_any_thread,
                                         on_listening=self._catch_up_all)
            self.listener.start()

    async def stop(self) -> None:
        self._stop_listening()
        await self.writer.stop()
        self._stop_listening = _nothing
        if self.listener is not None:
            listener, self.listener = self.listener, None
            await anyio.to_thread.run_sync(listener.stop)

    def _from_any_thread(self, notice: dict[str, Any]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._on_notice, notice)

    def _catch_up_all(self) -> None:
        for interview_id in list(self.rooms):
            self._from_any_thread({"interview": interview_id, "kind": "update"})

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_notice(self, notice: dict[str, Any]) -> None:
        room = self.rooms.get(notice.get("interview", 0))
        if room is None:
            return
        kind = notice.get("kind")
        if kind == "update":
            rows, start, end = notice.get("rows"), notice.get("start"), notice.get("end")
            if isinstance(rows, list) and isinstance(start, int) and isinstance(end, int):
                if not room.has(end=end):  # the updates came with the notice: nothing to read
                    self._apply_relayed(room, rows, start=start, end=end)
            elif room.catching_up:
                room.behind = True  # the running catch-up reads again when it is done
            else:
                self._spawn(self._catch_up(room))
        elif kind == "signal" and isinstance(notice.get("message"), dict):
            if notice["message"].get("type") == "ended":
                room.finished = True
            self._spawn(room.send_all(protocol.signal_message(notice["message"])))
        elif kind == "awareness" and isinstance(notice.get("message"), str):
            message = base64.b64decode(notice["message"])
            for entry in protocol.read_awareness(message[1:]):
                self._remember(room, entry)
            self._spawn(room.send_all(message))

    # a connection --------------------------------------------------------------------------
    async def serve(self, *, interview_id: int, identity: Identity, is_candidate: bool, channel: Channel,
                    messages: AsyncIterator[bytes]) -> None:
        room = await self._room(interview_id)
        client = Client(channel, identity, is_candidate)
        room.clients.add(client)
        try:
            await channel.send(protocol.sync_message(YSyncMessageType.SYNC_STEP1, room.doc.get_state()))
            if room.awareness:
                await channel.send(protocol.awareness_message(list(room.awareness.values())))
            if room.finished:
                await channel.send(protocol.signal_message({"type": "ended"}))
            async for message in messages:
                if len(message) > MAX_FRAME_BYTES:
                    return await channel.close(TOO_BIG, "message too big")
                if not client.allow():
                    return await channel.close(TOO_MANY, "too many messages")
                try:
                    await self._handle(room, client, message)
                except BadMessage as exc:
                    return await channel.close(BAD_MESSAGE, str(exc))
                except NotStored:
                    return await channel.close(SERVER_ERROR, "could not store the edit; reconnect to resend it")
                except DocumentFull as exc:
                    await channel.send(protocol.signal_message({"type": "error", "message": exc.message}))
                    return await channel.close(TOO_BIG, "document full")
        finally:
            await self._leave(room, client)

    async def _room(self, interview_id: int) -> Room:
        if (room := self.rooms.get(interview_id)) is not None:
            return room
        loading = self._loading.get(interview_id)
        if loading is None:
            loading = self._loading[interview_id] = asyncio.ensure_future(
                anyio.to_thread.run_sync(self._load, interview_id))
        try:
            room = await asyncio.shield(loading)
        finally:
            self._loading.pop(interview_id, None)
        if interview_id not in self.rooms:
            self.rooms[interview_id] = room
            self._catch_up_soon(room)  # notices that came while it loaded found no room: read past them
        return self.rooms[interview_id]

    def _catch_up_soon(self, room: Room) -> None:
        if room.catching_up:
            room.behind = True  # the running catch-up reads again when it is done
        else:
            self._spawn(self._catch_up(room))

    def _load(self, interview_id: int) -> Room:
        with session_scope(self.database.read_session) as db:
            rows = document.updates_after(db, interview_id=interview_id, after_id=0)
            finished = db.get_one(Interview, interview_id).is_finished
        doc: Doc[Any] = Doc()
        for _, payload in rows:
            doc.apply_update(payload)
        return Room(interview_id, doc, rows[-1][0] if rows else 0, sum(len(payload) for _, payload in rows), finished)

    async def _leave(self, room: Room, client: Client) -> None:
        room.clients.discard(client)
        gone = [AwarenessEntry(cid, room.awareness[cid].clock + 1, None) for cid in client.client_ids
                if cid in room.awareness]
        for entry in gone:
            room.awareness.pop(entry.client_id, None)
            room.owners.pop(entry.client_id, None)
        if gone:
            await self._share_awareness(room, protocol.awareness_message(gone))
        if not room.clients and self.rooms.get(room.interview_id) is room:
            del self.rooms[room.interview_id]

    async def _handle(self, room: Room, client: Client, message: bytes) -> None:
        kind, body = protocol.kind_of(message)
        if kind == YMessageType.SYNC:
            step, payload = protocol.sync_payload(body)
            if step == YSyncMessageType.SYNC_STEP1:
                try:
                    missing = room.doc.get_update(payload)
                except Exception as exc:
                    raise BadMessage("malformed state vector") from exc
                await client.channel.send(protocol.sync_message(YSyncMessageType.SYNC_STEP2, missing))
            elif payload != document.EMPTY_UPDATE:
                await self._update(room, client, payload)
        elif kind == YMessageType.AWARENESS:
            await self._awareness(room, client, body)
        elif kind == QUERY_AWARENESS and room.awareness:
            await client.channel.send(protocol.awareness_message(list(room.awareness.values())))
        elif kind == protocol.EVENT and client.is_candidate and (found := protocol.event_of(body)) is not None:
            await anyio.to_thread.run_sync(self._record, room.interview_id, client.identity.user_id, found)

    async def _update(self, room: Room, client: Client, payload: bytes) -> None:
        if room.finished:
            return await client.channel.send(protocol.signal_message({"type": "ended"}))
        try:
            Doc().apply_update(payload)  # refuse what is not an update before it enters the log
        except Exception as exc:
            raise BadMessage("malformed update") from exc
        try:
            appended = await self.writer.append(interview_id=room.interview_id, user_id=client.identity.user_id,
                                                payload=payload)
        except InterviewEnded:
            room.finished = True
            return await client.channel.send(protocol.signal_message({"type": "ended"}))
        except DocumentFull:
            raise
        except Exception as exc:  # not stored (the database failed): the client keeps it and resends
            log.warning("interview %s: an update could not be stored (%s)", room.interview_id, exc)
            raise NotStored from exc
        room.doc.apply_update(payload)
        room.cover(start=appended.start, end=appended.end, last_id=appended.row_id)
        await room.send_all(protocol.sync_message(YSyncMessageType.SYNC_UPDATE, payload), but=client)

    def _record(self, interview_id: int, user_id: int, found: dict[str, Any]) -> None:
        kind = found.pop("type")
        with session_scope(self.database.write_session) as db:
            document.record_event(db, interview=db.get_one(Interview, interview_id), user_id=user_id, kind=kind,
                                  detail=found)

    async def _catch_up(self, room: Room) -> None:
        room.catching_up = True
        try:
            room.behind = True
            while room.behind:  # notices that arrive meanwhile are read in the next round
                room.behind = False
                await self._read_log(room)
        finally:
            room.catching_up = False

    def _apply_relayed(self, room: Room, rows: list[Any], *, start: int, end: int) -> None:
        try:
            updates = [(int(row_id), base64.b64decode(payload)) for row_id, payload in rows]
            for _, payload in updates:
                room.doc.apply_update(payload)
        except Exception:  # not what a process sends: read the log instead
            log.warning("interview %s: a relayed notice could not be applied", room.interview_id)
            return self._catch_up_soon(room)
        room.cover(start=start, end=end, last_id=updates[-1][0] if updates else room.last_id)
        for _, payload in updates:
            self._spawn(room.send_all(protocol.sync_message(YSyncMessageType.SYNC_UPDATE, payload)))
        if len(room.ahead) > 1_000:  # a notice that never came: read past the gap
            self._catch_up_soon(room)

    async def _read_log(self, room: Room) -> None:
        rows = await anyio.to_thread.run_sync(self._rows_after, room.interview_id, room.last_id)
        fresh = []
        for row_id, payload in rows:  # from the room's last contiguous row on, in log order
            if row_id <= room.last_id:
                continue  # covered while the read was under way
            room.doc.apply_update(payload)
            room.cover(start=room.applied, end=room.applied + len(payload), last_id=row_id)
            fresh.append(payload)
        for payload in fresh:
            await room.send_all(protocol.sync_message(YSyncMessageType.SYNC_UPDATE, payload))

    def _rows_after(self, interview_id: int, after_id: int) -> list[tuple[int, bytes]]:
        with session_scope(self.database.read_session) as db:
            return document.updates_after(db, interview_id=interview_id, after_id=after_id)

    # cursors and presence ------------------------------------------------------------------
    async def _awareness(self, room: Room, client: Client, body: bytes) -> None:
        entries = []
        for entry in protocol.read_awareness(body):
            owner = room.owners.get(entry.client_id)
            if owner is not None and owner is not client:
                continue  # someone else's client id: not this connection's to change
            room.owners[entry.client_id] = client
            client.client_ids.add(entry.client_id)
            entries.append(self._remember(room, protocol.vouched(entry, client.identity)))
        if entries:
            await self._share_awareness(room, protocol.awareness_message(entries))

    @staticmethod
    def _remember(room: Room, entry: AwarenessEntry) -> AwarenessEntry:
        if entry.state is None:
            room.awareness.pop(entry.client_id, None)
        else:
            room.awareness[entry.client_id] = entry
        return entry

    async def _share_awareness(self, room: Room, message: bytes) -> None:
        await room.send_all(message)
        if self.listener is not None:
            await anyio.to_thread.run_sync(lambda: publish_awareness(self.database.engine,
                                                                     interview_id=room.interview_id,
                                                                     message=message))
