"""On PostgreSQL, a separate `rehearse worker` starts grading at once, not at its next poll."""

from __future__ import annotations

import httpx2 as httpx
import pytest
from sqlalchemy import select, text

from tests.grading.processes import free_port, make_site
from tests.helpers import post_form, wait_for
from webapp.questions.bank import default_bank_dir, read_path
from webapp.submissions.models import Submission, SubmissionStatus

pytestmark = pytest.mark.processes


def test_a_worker_is_woken_by_the_queuing_transaction(tmp_path, site_database) -> None:
    if site_database is None:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite graders are woken in-process")
    # A poll interval far longer than the deadline below: only the notification can be in time.
    site = make_site(tmp_path, site_database, grader_concurrency="0", grader_poll_seconds="120")
    port = free_port()
    site.start("serve", "--port", str(port), name="web")
    site.start("worker", "--concurrency", "1", name="worker")
    try:
        worker_log = site.data_dir / "worker.log"
        wait_for(lambda: "listening for queued work" in worker_log.read_text(), timeout=60, message="listener")
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as browser:
            wait_for(lambda: _healthy(browser), timeout=60, message="web process")
            post_form(browser, "/register", {"email": "wake@example.com", "display_name": "Wake",
                                             "password": "a long passphrase"}, token_page="/register")
            first = _answer(browser)
            wait_for(lambda: _graded(site, first), timeout=15, message="the worker to grade at once")

            # The listening connection dies (a database restart, a proxy timeout): it comes back.
            with site.session() as db:
                db.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"))
            wait_for(lambda: worker_log.read_text().count("listening for queued work") == 2, timeout=30,
                     message="the listener to reconnect")
            second = _answer(browser)
            wait_for(lambda: _graded(site, second), timeout=15, message="grading after the reconnect")
    finally:
        site.stop_all()


def _answer(browser: httpx.Client) -> int:
    question = next(q for q in read_path(default_bank_dir()).questions if q.kind == "text")
    answered = post_form(browser, f"/questions/{question.slug}/submissions", {"answer": question.reference_answer},
                         token_page=f"/questions/{question.slug}")
    assert answered.status_code == 303, answered.text[:300]
    return int(answered.headers["location"].rsplit("/", 1)[1])


def _graded(site, submission_id: int) -> bool:
    with site.session() as db:
        return db.scalar(select(Submission.status).where(Submission.id == submission_id)) == SubmissionStatus.graded


def _healthy(browser: httpx.Client) -> bool:
    try:
        return browser.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False
