"""The room's WebSocket messages: the y-websocket protocol (sync and awareness, with pycrdt's
encoders) and the room's own two message types, 100 (an event from a browser) and 101 (a
signal from the server). Pure functions over bytes: nothing here does I/O."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from pycrdt import Decoder, Encoder, YMessageType, YSyncMessageType, create_awareness_message, write_var_uint

EVENT = 100  # browser → server: {"type": "paste" | "blur", ...}
SIGNAL = 101  # server → browser: {"type": "question" | "runs" | "ended" | "error", ...}
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_EVENT_CHARS = 10_000_000  # a paste's size, a blur's milliseconds: bounded, never trusted further


class BadMessage(ValueError):
    pass


@dataclass(frozen=True)
class Identity:
    """Who a connection is, as the server knows it: what every awareness state says it is."""

    user_id: int
    name: str
    role: str  # interviewer, candidate or admin


def kind_of(message: bytes) -> tuple[int, bytes]:
    """The message type and the rest (every message starts with a varuint type)."""
    if not message:
        raise BadMessage("empty message")
    decoder = Decoder(message)
    try:
        kind = decoder.read_var_uint()
    except (IndexError, RuntimeError) as exc:
        raise BadMessage("malformed message type") from exc
    return kind, message[decoder.i0:]


def sync_payload(body: bytes) -> tuple[int, bytes]:
    """A sync message's step and its payload (a state vector or an update)."""
    if not body or body[0] not in tuple(YSyncMessageType):
        raise BadMessage("not a sync message")
    try:
        payload = Decoder(body[1:]).read_message()
    except (IndexError, RuntimeError) as exc:
        raise BadMessage("malformed sync message") from exc
    if payload is None:
        raise BadMessage("truncated sync message")
    return body[0], payload


def sync_message(step: int, payload: bytes) -> bytes:
    return write_var_uint(YMessageType.SYNC) + bytes([step]) + write_var_uint(len(payload)) + payload


def signal_message(message: dict[str, Any]) -> bytes:
    encoder = Encoder()
    encoder.write_var_uint(SIGNAL)
    encoder.write_var_string(json.dumps(message, separators=(",", ":")))
    return encoder.to_bytes()


def event_of(body: bytes) -> dict[str, Any] | None:
    """A browser's event, checked: a paste (size, whether from outside the page) or the page
    losing focus (for how long); None for anything else."""
    try:
        data = json.loads(Decoder(body).read_var_string())
    except (ValueError, IndexError, RuntimeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    kind = data.get("type")
    if kind == "paste" and _count(data.get("size")) is not None:
        return {"type": "paste", "size": _count(data.get("size")), "external": data.get("external") is True}
    if kind == "blur" and _count(data.get("ms")) is not None:
        return {"type": "blur", "ms": _count(data.get("ms"))}
    return None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_EVENT_CHARS \
        else None


def colour_for(name: str) -> str:
    return "#" + hashlib.sha256(name.encode()).hexdigest()[:6]


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: dict[str, Any] | None  # None: the client left


def read_awareness(body: bytes) -> list[AwarenessEntry]:
    """An awareness message's entries (``body`` is what follows the message type)."""
    try:
        decoder = Decoder(Decoder(body).read_message() or b"")
        entries = []
        for _ in range(decoder.read_var_uint()):
            client_id, clock = decoder.read_var_uint(), decoder.read_var_uint()
            text = decoder.read_var_string()
            state = json.loads(text) if text else None
            entries.append(AwarenessEntry(client_id, clock, state if isinstance(state, dict) else None))
        return entries
    except (ValueError, IndexError, RuntimeError, UnicodeDecodeError) as exc:
        raise BadMessage("malformed awareness message") from exc


def vouched(entry: AwarenessEntry, identity: Identity) -> AwarenessEntry:
    """The entry with its ``user`` replaced by who the connection really is (a client's own
    colour is kept when it is one), so nobody can appear in the room as someone else."""
    if entry.state is None:
        return entry
    claimed = entry.state.get("user")
    wanted = claimed.get("color") if isinstance(claimed, dict) else None
    colour = wanted if isinstance(wanted, str) and _COLOUR.match(wanted) else colour_for(identity.name)
    user = {"name": identity.name, "role": identity.role, "color": colour, "colorLight": colour + "33"}
    return AwarenessEntry(entry.client_id, entry.clock, {**entry.state, "user": user})


def awareness_message(entries: list[AwarenessEntry]) -> bytes:
    encoder = Encoder()
    encoder.write_var_uint(len(entries))
    for entry in entries:
        encoder.write_var_uint(entry.client_id)
        encoder.write_var_uint(entry.clock)
        encoder.write_var_string(json.dumps(entry.state, separators=(",", ":")) if entry.state is not None
                                 else "null")
    return create_awareness_message(encoder.to_bytes())
