"""PostgreSQL stops while candidates answer, then starts again: every request in between is refused
cleanly (503, Retry-After, a message saying the answer was not saved; never a 500), the web process
and the graders reconnect by themselves, and every acknowledged answer is graded exactly once, even
the one a grader was grading when the database went away."""

from __future__ import annotations

import signal
import time
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from tests.conftest import _create_postgres_database
from tests.faults.jobs import freeze_with_a_job_in_hand
from tests.faults.load import Balancer, Load
from tests.faults.postgres_server import PostgresServer
from tests.grading.processes import free_port, make_site
from tests.helpers import wait_for
from tests.test_scale_out import _healthy
from webapp.submissions.models import Submission, SubmissionStatus

pytestmark = [pytest.mark.faults, pytest.mark.processes]
USERS = 6
OUTAGE_SECONDS = 3  # at least: long enough for every candidate, grader and heartbeat to meet it


def test_a_database_restart_under_load(tmp_path, own_postgres: PostgresServer) -> None:
    url, _ = _create_postgres_database(own_postgres.url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Graders in the web process and in a worker: both must find their way back. Heartbeats every 2 s.
    site = make_site(tmp_path, url, grader_concurrency="1", public_url=base, grader_poll_seconds="0.2",
                     grader_lease_seconds="6", submissions_per_window="1000")
    web = site.start("serve", "--port", str(port), name="web")
    worker = site.start("worker", "--concurrency", "1", name="worker")
    engine = create_engine(url)
    load = Load(Balancer([base]), users=USERS, origin=base)
    try:
        wait_for(lambda: _healthy(base), timeout=60, interval=0.2, message="the web process")
        load.start()
        tally = load.tally
        wait_for(lambda: tally.acknowledged_since(0) >= 3 * USERS, timeout=60, interval=0.1,
                 message="answers before the outage")
        # The worker is caught grading: it will have a grade to store while the database is gone.
        in_hand = freeze_with_a_job_in_hand(worker, engine)
        engine.dispose()
        acknowledged_before = tally.acknowledged_since(0)
        stopped = time.monotonic()
        own_postgres.stop()
        down = time.monotonic()
        worker.send_signal(signal.SIGCONT)
        wait_for(lambda: tally.refused_since(stopped, answers_only=True) >= USERS
                 and time.monotonic() - stopped >= OUTAGE_SECONDS, timeout=30, interval=0.1,
                 message="answers refused while the database is down")
        # (A response to an answer committed just before the stop may still be on its way for a moment.)
        assert tally.acknowledged_since(down + 0.5) == 0, "an answer was acknowledged with the database down"
        own_postgres.start()
        started = time.monotonic()
        wait_for(lambda: tally.acknowledged_since(started) >= 1, timeout=30, interval=0.02,
                 message="the first answer after the restart")
        first_after = time.monotonic() - started
        wait_for(lambda: tally.acknowledged_since(started) >= 3 * USERS, timeout=60, interval=0.1,
                 message="answers after the restart")
        tally = load.stop()
        acknowledged = tally.acknowledged_ids()

        def all_graded() -> bool:
            with engine.connect() as connection:
                graded = connection.scalars(select(Submission.id).where(Submission.status == SubmissionStatus.graded))
                return set(graded) >= acknowledged

        wait_for(all_graded, timeout=60, interval=0.2, message="every acknowledged answer graded")
        graded_in = time.monotonic() - started
        for log in (site.data_dir / "web.log", site.data_dir / "worker.log"):  # both listen for NOTIFY again
            wait_for(partial(_says, log, "listening for queued work again"), timeout=30, interval=0.1,
                     message=f"the queue listener in {log.name}")
        listening_in = time.monotonic() - started
        assert web.poll() is None and worker.poll() is None, "a process died instead of reconnecting"
    finally:
        load.stop()
        site.stop_all()
        engine.dispose()

    assert tally.failures == [], tally.failures[:10]
    with site.session() as db:
        rows = {r.id: r for r in db.scalars(select(Submission))}
    assert set(rows) == acknowledged  # nothing refused was stored after all, nothing acknowledged lost
    assert all(r.status == SubmissionStatus.graded and r.score is not None for r in rows.values())
    # Graded once: one claim each (the job in hand was kept, not retried), one stored grade each.
    assert all(r.attempts == 1 for r in rows.values()), {i: r.attempts for i, r in rows.items() if r.attempts != 1}
    assert {rows[i].lease_owner.split(":")[1] for i in in_hand} == {str(worker.pid)}
    reports = site.graded_ids()
    assert set(reports) == acknowledged and set(reports.values()) == {1}, "an answer was graded twice or never"
    logs = {name: (site.data_dir / f"{name}.log").read_text() for name in ("web", "worker")}
    assert all("Traceback" not in text for text in logs.values())
    # Each grading process says that the database went, and that it came back: once, or twice if a
    # transaction still got through while the server was shutting down, never once per try.
    for text in logs.values():
        went, back = text.count("database unavailable ("), text.count("database back after")
        assert went == back and went in (1, 2), text[-3000:]
        assert text.count("listening for queued work again") == 1
    refused_answers = tally.refused_since(0, answers_only=True)
    print(f"\noutage: {acknowledged_before} answers acknowledged before, {len(tally.refused)} requests refused "
          f"({refused_answers} of them answers, {sorted({s for _, s, _ in tally.refused})}) in "
          f"{started - stopped:.1f}s down; first answer acknowledged {first_after:.2f}s after the start; "
          f"{len(acknowledged)} acknowledged in all, every one graded once {graded_in:.1f}s after the start; "
          f"listeners back within {listening_in:.1f}s")


def _says(log: Path, text: str) -> bool:
    return text in log.read_text()
