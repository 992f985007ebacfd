"""The room's WebSocket against a real server process: convergence, the log, restarts, the
handshake's checks, limits, read-only rooms, events, awareness, signals; and two processes on
PostgreSQL relaying to each other."""

from __future__ import annotations

import os
from functools import partial

import httpx2 as httpx
import pytest
from pycrdt import Encoder
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.grading.processes import Site, free_port, make_site
from tests.helpers import wait_for
from tests.interviews.live_client import Peer, add_interview, add_user, pump_all, session_cookie
from webapp.core.db import utcnow
from webapp.identity.models import Role
from webapp.interviews import document
from webapp.interviews.live import protocol
from webapp.interviews.live.hub import MAX_FRAME_BYTES
from webapp.interviews.live.protocol import AwarenessEntry
from webapp.interviews.models import Interview, InterviewEvent, InterviewUpdate
from webapp.interviews.texts import text_of
from webapp.questions.models import Question

pytestmark = pytest.mark.processes
SLUG = "pydantic-signup-validators"


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _serve(site: Site, port: int, name: str) -> None:
    site.start("serve", "--port", str(port), name=name)
    wait_for(partial(_healthy, f"http://127.0.0.1:{port}"), timeout=60, interval=0.2, message=f"{name} healthy")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """One server on SQLite, an interviewer, a candidate, an outsider and an interview."""
    port = free_port()
    site = make_site(tmp_path_factory.mktemp("live"), None, grader_concurrency="0",
                     public_url=f"http://127.0.0.1:{port}")
    with site.session() as db:
        interviewer, candidate = add_user(db, "ivy@example.com", Role.interviewer), add_user(db, "cal@example.com")
        add_user(db, "otto@example.com")
        interview = add_interview(db, interviewer=interviewer, candidate=candidate, slug=SLUG)
        question_id = db.scalar(select(Question.id).where(Question.slug == SLUG))
        db.commit()
        interview_id = interview.id
    _serve(site, port, "web")
    base = f"http://127.0.0.1:{port}"
    cookies = {who: session_cookie(base, f"{who}@example.com") for who in ("ivy", "cal", "otto")}
    yield {"site": site, "base": base, "port": port, "id": interview_id, "cookies": cookies,
           "text": f"code-{question_id}", "question_id": question_id}
    site.stop_all()


def _peer(live, who: str, **kwargs) -> Peer:
    return Peer(live["base"], live["id"], cookie=live["cookies"][who], name=live["text"], **kwargs)


def _stored_text(live) -> str:
    with live["site"].session() as db:
        return text_of(document.load_document(db, interview_id=live["id"]), live["question_id"])


def test_two_clients_converge_and_the_log_holds_every_edit(live) -> None:
    ivy, cal = _peer(live, "ivy"), _peer(live, "cal")
    try:
        for peer in (ivy, cal):
            peer.pump(lambda p=peer: p.synced)
        for n in range(20):  # both type at once, neither waiting for the other
            ivy.type(0, f"i{n} ")
            cal.type(len(cal.text), f"c{n} ")
        pump_all([ivy, cal], lambda: str(ivy.text) == str(cal.text) and "i19 " in str(cal.text)
                 and "c19 " in str(ivy.text))
        assert all(f"i{n} " in str(cal.text) and f"c{n} " in str(ivy.text) for n in range(20))
        wait_for(lambda: _stored_text(live) == str(ivy.text), timeout=10, message="the log equals the documents")
        with live["site"].session() as db:
            authors = set(db.scalars(select(InterviewUpdate.user_id).where(InterviewUpdate.interview_id == live["id"])))
        assert len(authors) == 2
    finally:
        ivy.close()
        cal.close()


def test_a_restart_loses_nothing_and_clients_carry_on(live) -> None:
    ivy = _peer(live, "ivy")
    ivy.pump(lambda: ivy.synced)
    ivy.type(0, "before the restart\n")
    wait_for(lambda: "before the restart" in _stored_text(live), timeout=10, message="stored")
    site = live["site"]
    process, _ = site.processes[-1]
    process.terminate()
    process.wait(timeout=30)
    try:  # the browser's document keeps the edit; it is sent again when the connection is back
        ivy.type(0, "typed while the server was down\n")
    except ConnectionClosed:
        pass
    _serve(site, live["port"], "web-again")
    again, cal = Peer(live["base"], live["id"], cookie=live["cookies"]["ivy"], name=live["text"]), _peer(live, "cal")
    again.doc, again.text_name = ivy.doc, ivy.text_name  # the same browser document, reconnected
    again.send(protocol.sync_message(0, again.doc.get_state()))
    again.pump(lambda: again.synced)
    pump_all([again, cal], lambda: "typed while the server was down" in str(cal.text)
             and "before the restart" in str(cal.text))
    wait_for(lambda: "typed while the server was down" in _stored_text(live), timeout=10, message="resent, stored")
    again.close()
    cal.close()


@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
def test_a_foreign_origin_is_refused(live, origin) -> None:
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        peer = _peer(live, "ivy", origin=origin)
        peer.pump(lambda: False, timeout=3)


def test_an_uninvited_or_signed_out_user_is_refused(live) -> None:
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        _peer(live, "otto").pump(lambda: False, timeout=3)
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        Peer(live["base"], live["id"], cookie="", name=live["text"]).pump(lambda: False, timeout=3)


def test_too_big_a_frame_closes_the_connection(live) -> None:
    cal = _peer(live, "cal")
    cal.pump(lambda: cal.synced)
    cal.send(protocol.sync_message(2, b"\x00" * (MAX_FRAME_BYTES + 10)))
    with pytest.raises(ConnectionClosed) as closed:
        cal.pump(lambda: False, timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4413


def test_a_flood_of_messages_closes_the_connection(live) -> None:
    cal = _peer(live, "cal")
    cal.pump(lambda: cal.synced)
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(2000):
            cal.send(protocol.sync_message(0, cal.doc.get_state()))
        cal.pump(lambda: False, timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429


def test_events_are_recorded_for_the_candidate_only_and_awareness_is_vouched_for(live) -> None:
    ivy, cal = _peer(live, "ivy"), _peer(live, "cal")
    for peer in (ivy, cal):
        peer.pump(lambda p=peer: p.synced)
    event = Encoder()
    event.write_var_uint(protocol.EVENT)
    event.write_var_string('{"type":"paste","size":480,"external":true}')
    cal.send(event.to_bytes())
    ivy.send(event.to_bytes())  # the interviewer's own pastes are not evidence about the candidate
    spoof = AwarenessEntry(cal.doc.client_id, 1, {"user": {"name": "ivy", "role": "interviewer",
                                                           "color": "#112233"}})
    cal.send(protocol.awareness_message([spoof]))
    pump_all([ivy, cal], lambda: cal.doc.client_id in ivy.awareness)
    shown = ivy.awareness[cal.doc.client_id].state["user"]
    assert (shown["name"], shown["role"], shown["color"]) == ("cal", "candidate", "#112233")
    with live["site"].session() as db:
        wait_for(lambda: db.scalars(select(InterviewEvent).where(InterviewEvent.kind == "paste")).all(),
                 timeout=10, message="the paste recorded")
        events = db.scalars(select(InterviewEvent).where(InterviewEvent.kind == "paste")).all()
        assert [(e.detail, e.user.email) for e in events] == [({"size": 480, "external": True}, "cal@example.com")]
    ivy.close()
    cal.close()


def test_a_finished_interview_is_read_only_and_signals_reach_the_room(live) -> None:
    cal = _peer(live, "cal")
    cal.pump(lambda: cal.synced)
    with live["site"].session() as db:
        interview = db.get_one(Interview, live["id"])
        interview.ended_at = utcnow()
        document.signal(db, interview_id=interview.id, message={"type": "ended"})
        db.commit()  # by another process (this test): the server's room learns of it when it next writes
    before = _stored_text(live)
    cal.type(0, "after the end")
    cal.pump(lambda: {"type": "ended"} in cal.signals, timeout=10)
    assert _stored_text(live) == before, "nothing written after the end"
    cal.close()


@pytest.mark.skipif(not os.environ.get("REHEARSE_TEST_DATABASE_URL"),
                    reason="the relay between processes runs on PostgreSQL (CI sets REHEARSE_TEST_DATABASE_URL)")
def test_two_processes_relay_through_postgresql(tmp_path) -> None:
    url, name = _create_postgres_database(os.environ["REHEARSE_TEST_DATABASE_URL"])
    ports = [free_port(), free_port()]
    site = make_site(tmp_path, url, grader_concurrency="0", public_url=f"http://127.0.0.1:{ports[0]}")
    try:
        with site.session() as db:
            ivy, cal = add_user(db, "ivy@example.com", Role.interviewer), add_user(db, "cal@example.com")
            interview = add_interview(db, interviewer=ivy, candidate=cal, slug=SLUG)
            text = f"code-{interview.current_question_id}"
            db.commit()
            interview_id = interview.id
        for n, port in enumerate(ports):
            _serve(site, port, f"web-{n}")
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        origin = bases[0]  # both answer for one public origin, as behind a proxy
        one = Peer(bases[0], interview_id, cookie=session_cookie(bases[0], "ivy@example.com"), name=text,
                   origin=origin)
        two = Peer(bases[1], interview_id, cookie=session_cookie(bases[1], "cal@example.com"), name=text,
                   origin=origin)
        for peer in (one, two):
            peer.pump(lambda p=peer: p.synced)
        one.type(0, "from process one\n")
        pump_all([one, two], lambda: "from process one" in str(two.text))
        two.type(len(two.text), "from process two\n")
        pump_all([one, two], lambda: "from process two" in str(one.text))
        # Too big to travel in a NOTIFY: the notice says where it lies and process two reads the log.
        pasted = "".join(f"line_{n} = {n}\n" for n in range(2_000))
        one.type(0, pasted)
        pump_all([one, two], lambda: "line_1999 = 1999" in str(two.text))
        two.type(0, "small again\n")  # and the rooms go on relaying in the notices themselves
        pump_all([one, two], lambda: "small again" in str(one.text))
        assert str(one.text) == str(two.text)
        one.close()
        two.close()
    finally:
        site.stop_all()
        _drop_postgres_database(os.environ["REHEARSE_TEST_DATABASE_URL"], name)
