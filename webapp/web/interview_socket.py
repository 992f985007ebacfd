"""The room's WebSocket, ``/interviews/{id}/ws``: the y-websocket protocol between the browser's
Yjs document and the room (interviews/live/hub.py).

A browser sends its cookies with a WebSocket to any site, so the handshake is checked before it
is accepted: its ``Origin`` must be this site's (cross-site WebSocket hijacking), its session a
valid one, and its user the interviewer, the invited candidate or an admin. Refused handshakes
are closed with 1008 before ``accept``, which the browser sees as a failed connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from webapp.core.config import Settings
from webapp.core.db import Database, session_scope, utcnow
from webapp.identity.sessions import load_session_user
from webapp.interviews.access import can_join
from webapp.interviews.live.hub import POLICY, Hub
from webapp.interviews.live.protocol import Identity
from webapp.interviews.models import Interview
from webapp.web.csrf import origins_of

router = APIRouter()


class SocketChannel:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def send(self, message: bytes) -> None:
        await self.websocket.send_bytes(message)

    async def close(self, code: int, reason: str) -> None:
        await self.websocket.close(code, reason)


async def _frames(websocket: WebSocket) -> AsyncIterator[bytes]:
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                yield message["bytes"]
            # text frames are not part of the protocol: ignored
    except WebSocketDisconnect:
        return


def _admit(database: Database, session: dict[str, Any], settings: Settings,
           interview_id: int) -> tuple[Identity, bool] | None:
    """Who this is, if they may join; the interview is live from the first join."""
    with session_scope(database.write_session) as db:
        user = load_session_user(session, db, settings=settings)
        interview = db.get(Interview, interview_id)
        if user is None or interview is None or not can_join(user, interview) or user.must_change_password:
            return None
        if interview.started_at is None and not interview.is_finished:
            interview.started_at = utcnow()
        is_candidate = user.id == interview.candidate_id
        role = "candidate" if is_candidate else ("interviewer" if user.id == interview.interviewer_id
                                                 else user.role.value)
        return Identity(user.id, user.display_name, role), is_candidate


@router.websocket("/interviews/{interview_id}/ws")
async def interview_socket(websocket: WebSocket, interview_id: int) -> None:
    app = websocket.app
    settings: Settings = app.state.settings
    origin = websocket.headers.get("origin", "").lower()
    if origin not in origins_of(settings.public_origin):
        await websocket.close(POLICY, "this origin may not open the room")
        return
    admitted = await run_in_threadpool(_admit, app.state.db, dict(websocket.session), settings, interview_id) \
        if "sid" in websocket.session else None
    if admitted is None:
        await websocket.close(POLICY, "not signed in as someone in this interview")
        return
    identity, is_candidate = admitted
    await websocket.accept()
    hub: Hub = app.state.interview_hub
    await hub.serve(interview_id=interview_id, identity=identity, is_candidate=is_candidate,
                    channel=SocketChannel(websocket), messages=_frames(websocket))
