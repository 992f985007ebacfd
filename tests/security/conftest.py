"""Hostile code through the real path: an HTTP POST of pasted code to a small challenge of
our own, the grader loop in a background thread (while /healthz is polled and must stay
fast), the two sandboxes, and the stored submission's status, score and verdict."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import wait_for
from tests.sandbox_processes import cmdline, job_processes
from webapp.core.db import session_scope
from webapp.questions.bank import QuestionSpec, TopicSpec
from webapp.questions.editing import create_question, upsert_topic
from webapp.submissions.models import Submission

LIMITS = {"wall_seconds": 6, "cpu_seconds": 2}  # keeps every case short; grading is otherwise unchanged
CANARY = f"CANARY-{secrets.token_hex(8)}"  # only in the hidden tests: must never reach a candidate
PROBE_TESTS = f'''
from rehearse_tests import weight

SECRET_WORD = "{CANARY}"  # only here: if it shows up in feedback, a candidate read this file


def test_ping(client):
    r = client.get("/ping")
    assert r.status_code == 200 and r.json() == {{"pong": True}}, "GET /ping should answer {{'pong': true}}"


@weight(2)
def test_add(client):
    for a, b in ((2, 3), (-1, 1), (10 ** 6, 1)):
        r = client.get("/add", params={{"a": a, "b": b}})
        assert r.status_code == 200 and r.json() == {{"sum": a + b}}, f"GET /add?a={{a}}&b={{b}} should answer its sum"


def test_echo_socket(client):
    with client.websocket("/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi", "the WebSocket /echo should send back what it receives"
'''
REFERENCE = '''
from fastapi import FastAPI, WebSocket

app = FastAPI()


@app.get("/ping")
def ping():
    return {"pong": True}


@app.get("/add")
def add(a: int, b: int):
    return {"sum": a + b}


@app.websocket("/echo")
async def echo(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
'''
PING_ONLY = REFERENCE.split('@app.get("/add")')[0]  # an honest, partly right answer: 1 point of 4
PROBE = '''
from fastapi import FastAPI

app = FastAPI()


def probe(label, action):
    try:
        print(label, "LEAKED", repr(action())[:300], flush=True)
    except BaseException as exc:
        print(label, "BLOCKED", type(exc).__name__, flush=True)

'''


@dataclass
class Graded:
    status: str
    score: int | None
    feedback: dict[str, Any]
    error: str
    slowest_healthz: float

    @property
    def verdict(self) -> str:
        return self.feedback.get("verdict", "")

    @property
    def output(self) -> str:
        return self.feedback.get("output", "")


@pytest.fixture
def challenge(app) -> str:
    with session_scope(app.state.db.write_session) as db:
        upsert_topic(db, spec=TopicSpec(slug="security", name="Security"))
        create_question(db, actor=None, spec=QuestionSpec(
            slug="hostile-probe", topic="security", difficulty="easy", kind="code", title="Ping, add and echo",
            prompt="GET /ping, GET /add, WebSocket /echo.", starter_code="", hidden_tests=PROBE_TESTS,
            reference_solution=REFERENCE, limits=LIMITS))
    return "hostile-probe"


@pytest.fixture
def submit(app, challenge, answer, candidate_client) -> Callable[[str], Graded]:
    def run(code: str) -> Graded:
        response = answer(challenge, code=code)
        assert response.status_code == 303, response.text
        submission_id = int(response.headers["location"].rsplit("/", 1)[1])
        outcome: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: outcome.update(worked=app.state.grader.process_one()), daemon=True)
        slowest = 0.0

        def graded_while_serving() -> bool:  # the app must keep serving while hostile code runs
            nonlocal slowest
            if not worker.is_alive():
                return True
            sent = time.monotonic()
            assert candidate_client.get("/healthz").status_code == 200
            slowest = max(slowest, time.monotonic() - sent)
            worker.join(0.05)  # the pause between polls
            return False

        worker.start()
        wait_for(graded_while_serving, timeout=60, interval=0, message="grading to finish")
        assert outcome.get("worked") is True
        assert candidate_client.get("/healthz").status_code == 200
        assert slowest < 1.0, f"/healthz took {slowest:.2f} s while grading"
        with session_scope(app.state.db.read_session) as db:
            stored = db.get(Submission, submission_id)
            return Graded(stored.status.value, stored.score, dict(stored.feedback or {}), stored.error, slowest)

    return run


@pytest.fixture
def mode(app) -> str:
    return app.state.grader.graders["code"].sandbox.mode


@pytest.fixture(autouse=True)
def no_survivors() -> Iterator[None]:
    """Nothing a job started may still run once it is graded: processes found by the job's own
    marks (tests/sandbox_processes.py), wherever they are, whatever else runs meanwhile."""
    before = job_processes()
    yield
    left = job_processes() - before
    assert not left, f"sandbox processes outlived their job: {[cmdline(p)[:200] for p in left]}"


def needs_bwrap(mode: str, why: str) -> None:
    if mode != "bwrap":
        pytest.skip("process mode (REHEARSE_SANDBOX=process, or auto without usable bubblewrap) "
                    f"does not contain this: {why}")


def needs_another_user(mode: str) -> None:
    if mode == "process" and os.geteuid() != 0:
        pytest.skip("process mode without root runs candidate code as the server's own user, who can read, "
                    "write and signal everything the server can")


def graded_honestly(result: Graded, *verdicts: str, at_most: int = 0) -> None:
    """Graded (not failed), with one of ``verdicts``, and no more than an honest answer of the
    same worth would score (``at_most``: 0 for an app with no routes)."""
    assert result.status == "graded", result
    assert result.score is not None and result.score <= at_most and result.verdict != "passed", result
    assert result.verdict in verdicts, result.feedback
    assert CANARY not in str(result.feedback), "the hidden tests reached the candidate"
