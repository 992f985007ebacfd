"""Live interview rooms: how fast an edit typed by one person shows up for the other.

Run: ``.venv/bin/python -m bench.interviews`` (``make bench`` runs every benchmark); BENCH_QUICK=1
for a smoke run. A real ``rehearse serve`` (pinned to CPU 0) and scripted clients in this
process (pinned to CPU 1): each a pycrdt document speaking the y-websocket protocol over a real
WebSocket, signed in through the log-in form. An edit inserts a unique token; its latency is
from the moment the sender sends it to the moment the other client's document applies it (one
clock: both clients are in this process). At the end every client must hold every token and the
two documents of a room must be equal: a token missing is a lost update.

1. One room, two clients, one edit at a time, alternating direction.
2. ROOMS rooms, both clients of each typing RATE edits a second for SECONDS, all at once (each
   client at its own fixed phase within the 1/RATE period, seeded: independent people do not
   press keys in the same millisecond, which would measure a burst of 2 x ROOMS edits instead).
3. The same with the two clients of each room on two different server processes, relayed
   through PostgreSQL (only when REHEARSE_BENCH_DATABASE_URL is set).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import time
from typing import Any

import httpx2 as httpx
from pycrdt import Doc, Text, YMessageType, YSyncMessageType
from websockets.asyncio.client import ClientConnection, connect

from bench.common import (
    BenchSite,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    knob,
    make_site,
    percentile,
    postgres_available,
    stop_server,
    wait_healthy,
)
from bench.load import CLIENT_CPU, SERVER_CPU, serve
from webapp.identity.models import Role, User
from webapp.identity.passwords import make_hasher
from webapp.interviews.live import protocol
from webapp.interviews.models import Interview, InterviewQuestion
from webapp.questions.models import Question

ROOMS = knob("BENCH_ROOMS", 50, quick=5)
SECONDS = knob("BENCH_ROOM_SECONDS", 20, quick=4)
PAIR_EDITS = knob("BENCH_PAIR_EDITS", 300, quick=40)
# Edits a second per client, both people of every room typing without pause the whole time:
# y-codemirror.next sends one update per keystroke transaction, a few a second while typing.
RATE = float(os.environ.get("BENCH_ROOM_RATE", "2"))
PASSWORD = "bench passphrase"
TOKEN = re.compile(r"\[(\w+)\]")
TOKEN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')
SLUG = "pydantic-signup-validators"


class Peer:
    def __init__(self, socket: ClientConnection, text_name: str) -> None:
        self.socket, self.doc = socket, Doc()
        self.text: Text = self.doc.get(text_name, type=Text)
        self.arrived: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Event] = {}
        self.text.observe(self._inserted)
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, base: str, interview_id: int, *, cookie: str, origin: str, text_name: str) -> Peer:
        url = base.replace("http://", "ws://") + f"/interviews/{interview_id}/ws"
        socket = await connect(url, origin=origin, additional_headers={"Cookie": cookie},  # type: ignore[arg-type]
                               open_timeout=30, max_size=2**22)
        peer = cls(socket, text_name)
        await socket.send(protocol.sync_message(YSyncMessageType.SYNC_STEP1, peer.doc.get_state()))
        return peer

    def _inserted(self, event: Any) -> None:
        now = time.perf_counter()
        for change in event.delta:
            for token in TOKEN.findall(change.get("insert", "") if isinstance(change.get("insert"), str) else ""):
                self.arrived.setdefault(token, now)
                if (waiter := self.waiters.pop(token, None)) is not None:
                    waiter.set()

    async def _read(self) -> None:
        async for message in self.socket:
            if not isinstance(message, bytes):
                continue
            kind, body = protocol.kind_of(message)
            if kind != YMessageType.SYNC:
                continue
            step, payload = protocol.sync_payload(body)
            if step == YSyncMessageType.SYNC_STEP1:
                await self.socket.send(protocol.sync_message(YSyncMessageType.SYNC_STEP2,
                                                             self.doc.get_update(payload)))
            else:
                self.doc.apply_update(payload)

    async def type(self, token: str) -> float:
        before = self.doc.get_state()
        self.text += f"[{token}] "
        update = self.doc.get_update(before)
        sent = time.perf_counter()
        self.arrived[token] = sent
        await self.socket.send(protocol.sync_message(YSyncMessageType.SYNC_UPDATE, update))
        return sent

    async def close(self) -> None:
        await self.socket.close()
        self.reader.cancel()


def _people(site: BenchSite, rooms: int) -> list[tuple[int, str, str, str]]:
    """``rooms`` interviews, each with its interviewer and candidate: (id, text, two emails)."""
    password_hash = make_hasher(memory_kib=19456, time_cost=2, parallelism=1).hash(PASSWORD)
    made = []
    with site.session() as db:
        question = db.query(Question).filter_by(slug=SLUG).one()
        for n in range(rooms):
            a = User(email=f"ivy{n}@example.com", display_name=f"ivy{n}", password_hash=password_hash,
                     role=Role.interviewer)
            b = User(email=f"cal{n}@example.com", display_name=f"cal{n}", password_hash=password_hash)
            db.add_all([a, b])
            db.flush()
            interview = Interview(interviewer_id=a.id, candidate_id=b.id, title=f"Bench {n}",
                                  current_question_id=question.id,
                                  questions=[InterviewQuestion(question_id=question.id,
                                                               revision_id=question.current_revision_id,
                                                               position=1)])
            db.add(interview)
            db.flush()
            made.append((interview.id, f"code-{question.id}", a.email, b.email))
        db.commit()
    return made


def _cookie(base: str, email: str) -> str:
    with httpx.Client(base_url=base, timeout=120) as client:
        token = TOKEN_PAGE.search(client.get("/login").text)
        assert token, "no csrf token on /login"
        response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
        if response.status_code != 303:
            raise RuntimeError(f"log-in failed for {email}: {response.status_code}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


async def _pair(base: str, room: tuple[int, str, str, str]) -> dict[str, Any]:
    interview_id, text, a, b = room
    one, two = [await Peer.open(base, interview_id, cookie=_cookie(base, email), origin=base, text_name=text)
                for email in (a, b)]
    latencies = []
    for n in range(PAIR_EDITS):
        sender, receiver = (one, two) if n % 2 == 0 else (two, one)
        token = f"p{n}"
        receiver.waiters[token] = waiter = asyncio.Event()
        sent = await sender.type(token)
        await asyncio.wait_for(waiter.wait(), timeout=10)
        latencies.append((receiver.arrived[token] - sent) * 1000)
    await one.close()
    await two.close()
    return {"latencies": latencies, "edits": PAIR_EDITS, "lost": 0}


async def _rooms(bases: tuple[str, str], origin: str, rooms: list[tuple[int, str, str, str]], *,
                 in_step: bool = False) -> dict[str, Any]:
    peers = []
    for interview_id, text, a, b in rooms:
        peers.append(tuple([await Peer.open(base, interview_id, cookie=_cookie(base, email), origin=origin,
                                            text_name=text) for base, email in zip(bases, (a, b), strict=True)]))
    sent: list[tuple[Peer, Peer, str, float]] = []

    phases = random.Random(20).random  # people in different rooms do not type in step
    began = time.perf_counter()

    async def typist(me: Peer, other: Peer, name: str) -> None:
        start = began + (0.0 if in_step else phases() / RATE)
        for n in range(int(SECONDS * RATE)):  # open loop: edit n is due at start + n / RATE
            await asyncio.sleep(max(0.0, start + n / RATE - time.perf_counter()))
            token = f"{name}x{n}"
            sent.append((me, other, token, await me.type(token)))

    await asyncio.gather(*(typist(one, two, f"a{i}") for i, (one, two) in enumerate(peers)),
                         *(typist(two, one, f"b{i}") for i, (one, two) in enumerate(peers)))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(token not in other.arrived for _, other, token, _ in sent):
        await asyncio.sleep(0.1)
    lost = sum(token not in other.arrived for _, other, token, _ in sent)
    lost += sum(str(one.text) != str(two.text) for one, two in peers)
    latencies = [(other.arrived[token] - at) * 1000 for _, other, token, at in sent if token in other.arrived]
    for one, two in peers:
        await one.close()
        await two.close()
    return {"latencies": latencies, "edits": len(sent), "lost": lost}


def _server(site: BenchSite, port: int, name: str, cpu: str = SERVER_CPU) -> Any:
    server = serve(site, f"{name}.log", ["webapp.cli", "serve", "--port", str(port)], cpu=cpu)
    wait_healthy(f"http://127.0.0.1:{port}", timeout=60)
    return server


def measure() -> dict[str, Any]:
    os.sched_setaffinity(0, {int(CLIENT_CPU)})
    results: dict[str, Any] = {}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(grader_concurrency="0", public_url=base)
    rooms = _people(site, 2 * ROOMS + 1)
    server = _server(site, port, "web")
    try:
        results["pair"] = asyncio.run(_pair(base, rooms[0]))
        results["rooms"] = asyncio.run(_rooms((base, base), base, rooms[1:ROOMS + 1]))
        results["rooms_in_step"] = asyncio.run(_rooms((base, base), base, rooms[ROOMS + 1:], in_step=True))
    finally:
        stop_server(server)
    if postgres_available():
        url = create_postgres_database("bench_rooms")
        ports = [free_port(), free_port()]
        bases = (f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}")
        site = make_site(database_url=url, grader_concurrency="0", public_url=bases[0])
        # One core each, as two web hosts would have; the second shares its core with the clients.
        cpus = (SERVER_CPU, CLIENT_CPU)
        servers = [_server(site, p, f"web-{n}", cpu=cpus[n]) for n, p in enumerate(ports)]
        try:
            rooms = _people(site, 2 * ROOMS)
            results["relayed"] = asyncio.run(_rooms(bases, bases[0], rooms[:ROOMS]))
            results["relayed_in_step"] = asyncio.run(_rooms(bases, bases[0], rooms[ROOMS:], in_step=True))
        finally:
            for server in servers:
                stop_server(server)
            drop_postgres_database(url)
    return results


ROWS: dict[str, tuple[str, float | None]] = {
    "pair": ("one room, two clients, one edit at a time", 100.0),
    "rooms": (f"{ROOMS} rooms × 2 clients typing {RATE:g} edits/s each, one process (SQLite)", 150.0),
    "rooms_in_step": (f"the same, every client pressing a key in the same millisecond (a burst of "
                      f"{2 * ROOMS} edits every {1 / RATE:g} s)", None),
    "relayed": (f"{ROOMS} rooms × 2 clients, {RATE:g} edits/s each, on two processes, one per core "
                "(PostgreSQL relay)", 150.0),
    "relayed_in_step": ("the same relayed, every client in step", None)}


def report() -> str:
    results = measure()
    lines = ["## Live interviews: edit propagation", "", __doc__.split("\n\n", 1)[1].strip(), "",
             "| run | edits | p50 ms | p95 ms | p99 ms | max ms | lost | target p95 |",
             "|---|---|---|---|---|---|---|---|"]
    for key, (label, target) in ROWS.items():
        if key not in results:
            lines.append(f"| {label} | not measured (set REHEARSE_BENCH_DATABASE_URL) | | | | | | |")
            continue
        r, values = results[key], results[key]["latencies"]
        p95 = percentile(values, 95)
        verdict = ("stress: no target (0 lost is the test)" if target is None else
                   f"< {target:.0f}: {'**met**' if p95 < target and r['lost'] == 0 else '**not met**'}")
        lines.append(f"| {label} | {r['edits']} | {statistics.median(values):.1f} | {p95:.1f} | "
                     f"{percentile(values, 99):.1f} | {max(values):.1f} | {r['lost']} | {verdict} |")
    lines += ["", f"Load generator and server share this 2-core machine (one core each); load average "
                  f"{os.getloadavg()[0]:.2f} at the end.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
