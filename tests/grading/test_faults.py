"""Crash and concurrency faults with real processes: nothing lost, nothing graded twice."""

from __future__ import annotations

import signal
import socket

import httpx2 as httpx
import pytest
from sqlalchemy import select

from tests.grading.processes import all_graded, counts_by_status, free_port, make_site, queue_text_answers
from tests.helpers import wait_for
from webapp.submissions.models import Submission, SubmissionStatus

pytestmark = pytest.mark.processes


def test_sigkill_with_jobs_queued_and_running_loses_nothing(tmp_path, site_database) -> None:
    site = make_site(tmp_path, site_database, grader_concurrency="2", grader_lease_seconds="1.5")
    total = 150
    queue_text_answers(site, total)
    port = free_port()
    server = site.start("serve", "--port", str(port), name="before-crash")
    try:
        def mid_flight() -> bool:
            counts = counts_by_status(site)
            return counts.get("running", 0) >= 1 and counts.get("graded", 0) >= 3

        def frozen_mid_flight() -> bool:
            # Freeze the server, then look: no job can finish between the look and the kill.
            if not mid_flight():
                return False
            server.send_signal(signal.SIGSTOP)
            if mid_flight():
                return True
            server.send_signal(signal.SIGCONT)
            return False

        wait_for(frozen_mid_flight, timeout=60, interval=0.002, message="a job in flight")
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        at_crash = counts_by_status(site)
        assert at_crash.get("running", 0) >= 1 and at_crash.get("queued", 0) >= 1, at_crash
        with site.session() as db:
            interrupted = set(db.scalars(select(Submission.id).where(Submission.status == SubmissionStatus.running)))

        site.start("serve", "--port", str(port), name="after-restart")
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
                 if _listening(port) else False, timeout=30, message="the restarted server")
        wait_for(lambda: all_graded(site, total), timeout=120, interval=0.2, message="every job graded")
    finally:
        site.stop_all()

    graded_reports = site.graded_ids()
    assert set(graded_reports.values()) == {1}, "a job was graded twice"
    # A job the killed server stored just before SIGKILL may have missed its log line, never its grade.
    unlogged = set(range(1, total + 1)) - set(graded_reports)
    assert len(unlogged) <= 2 and not unlogged & interrupted, unlogged
    with site.session() as db:
        rows = list(db.scalars(select(Submission)))
    assert all(r.status == SubmissionStatus.graded and r.score is not None for r in rows)
    assert {r.id for r in rows if r.attempts == 2} == interrupted  # the interrupted ones were retried once
    assert all(r.attempts == 1 for r in rows if r.id not in interrupted)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_two_workers_share_the_queue_without_double_grading(tmp_path, site_database) -> None:
    site = make_site(tmp_path, site_database, grader_poll_seconds="0.2")
    total = 200
    queue_text_answers(site, total)
    try:
        site.start("worker", "--concurrency", "2", name="worker-a")
        site.start("worker", "--concurrency", "2", name="worker-b")
        wait_for(lambda: all_graded(site, total), timeout=180, interval=0.2, message="every job graded")
    finally:
        site.stop_all()
    reports = site.graded_ids()
    assert len(reports) == total and set(reports.values()) == {1}
    per_worker = {log.stem: sum(1 for _ in log.read_text().splitlines() if "graded submission" in _)
                  for log in site.data_dir.glob("worker-*.log")}
    assert all(count > 0 for count in per_worker.values()), per_worker
    assert counts_by_status(site) == {"graded": total}
