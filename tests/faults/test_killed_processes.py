"""SIGKILL for a web process and a grader worker in the middle of a load on two of each: the requests
in flight on the dead web process are sent again to the other (as a proxy does), nobody sees an error,
and nothing acknowledged is lost: the dead worker's job goes back to the queue when its lease expires
and the surviving worker grades it, once."""

from __future__ import annotations

import os
import signal
import time
from functools import partial

import pytest
from sqlalchemy import create_engine, select

from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.faults.jobs import freeze_with_a_job_in_hand
from tests.faults.load import Balancer, Load
from tests.grading.processes import free_port, make_site
from tests.helpers import wait_for
from tests.test_scale_out import _healthy
from webapp.submissions.models import Submission, SubmissionStatus

pytestmark = [pytest.mark.faults, pytest.mark.processes,
              pytest.mark.skipif(not os.environ.get("REHEARSE_TEST_DATABASE_URL"),
                                 reason="runs on PostgreSQL, as deployed (CI sets REHEARSE_TEST_DATABASE_URL)")]
USERS = 6


def test_a_web_process_and_a_worker_killed_under_load(tmp_path) -> None:
    server = os.environ["REHEARSE_TEST_DATABASE_URL"]
    url, name = _create_postgres_database(server)
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    # A short lease: a dead worker's job is back in the queue 2 s after its last heartbeat.
    site = make_site(tmp_path, url, grader_concurrency="0", public_url=bases[0], grader_poll_seconds="0.2",
                     grader_lease_seconds="2", submissions_per_window="1000")
    webs = [site.start("serve", "--port", str(port), name=f"web-{n}") for n, port in enumerate(ports)]
    workers = [site.start("worker", "--concurrency", "1", name=f"worker-{n}") for n in range(2)]
    engine = create_engine(url)
    balancer = Balancer(bases)
    load = Load(balancer, users=USERS, origin=bases[0])
    try:
        for base in bases:
            wait_for(partial(_healthy, base), timeout=60, interval=0.2, message=f"{base} healthy")
        load.start()
        tally = load.tally
        wait_for(lambda: tally.acknowledged_since(0) >= 3 * USERS, timeout=60, interval=0.1,
                 message="answers before the crash")
        in_hand = freeze_with_a_job_in_hand(workers[0], engine)
        # The web process hangs with requests in it, then dies; the proxy sends those elsewhere.
        webs[0].send_signal(signal.SIGSTOP)
        wait_for(lambda: balancer.in_flight[bases[0]] >= 2, timeout=30, interval=0.01,
                 message="requests in flight on the web process about to die")
        balancer.down.add(bases[0])
        for process in (webs[0], workers[0]):
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        killed = time.monotonic()
        wait_for(lambda: tally.acknowledged_since(killed) >= 3 * USERS, timeout=60, interval=0.1,
                 message="answers after the crash")
        tally = load.stop()

        def stored_and_graded() -> bool:
            with engine.connect() as connection:
                statuses = list(connection.scalars(select(Submission.status)))
            return all(status == SubmissionStatus.graded for status in statuses)

        wait_for(stored_and_graded, timeout=60, interval=0.2, message="every stored answer graded")
        recovered_in = time.monotonic() - killed
        assert webs[1].poll() is None and workers[1].poll() is None
    finally:
        load.stop()
        site.stop_all()
        engine.dispose()
        with site.session() as db:
            rows = {r.id: r for r in db.scalars(select(Submission))}
        _drop_postgres_database(server, name)

    assert tally.failures == [] and tally.refused == [], (tally.failures[:10], tally.refused[:10])
    assert tally.retried and all(bases[0] in r for r in tally.retried), tally.retried
    acknowledged = tally.acknowledged_ids()
    assert acknowledged <= set(rows)
    assert all(r.status == SubmissionStatus.graded and r.score is not None for r in rows.values())
    dead, survivor = (f":{w.pid}:" for w in workers)
    # The job in the dead worker's hands: claimed again once its lease ran out, graded by the survivor.
    assert all(rows[i].attempts == 2 and survivor in rows[i].lease_owner for i in in_hand), \
        {i: (rows[i].attempts, rows[i].lease_owner) for i in in_hand}
    assert all(r.attempts == 1 for i, r in rows.items() if i not in in_hand)
    reports = site.graded_ids()
    assert set(reports.values()) == {1}, "an answer was graded twice"
    # A grade the dead worker stored in its last instant may lack its log line, never its row.
    unreported = set(rows) - set(reports)
    assert len(unreported) <= 1 and all(dead in rows[i].lease_owner for i in unreported), unreported
    print(f"\nkill: {len(tally.retried)} requests in flight on the killed web process sent again "
          f"({tally.retried}); {len(in_hand)} job(s) in the killed worker's hands, graded again by the other; "
          f"{len(acknowledged)} answers acknowledged, {len(rows) - len(acknowledged)} stored without an "
          f"acknowledgement (sent again after the crash); all graded {recovered_in:.1f}s after the kill")
