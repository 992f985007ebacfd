"""100 concurrent users on a real `rehearse serve` with SQLite: no 5xx, no failed request, no
locked database, every answer graded exactly once.

Always a fresh SQLite database of its own (the target is about SQLite), so it runs the same in both CI
phases. Each user makes a bounded journey: log in (or sign up), /questions, a text answer and a
multiple-choice answer (question page, hx-post, status polled until graded), then the history.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import pytest
from sqlalchemy import select

from bench.journeys import CHOICE, TEXT, JourneyFailed, SimulatedUser, Tally, create_accounts
from tests.grading.processes import free_port, make_site
from tests.helpers import wait_for
from webapp.submissions.models import Submission, SubmissionStatus

pytestmark = pytest.mark.processes

USERS, REGISTERING = 100, 30
THINK = (0.05, 0.3)


async def journey(user: SimulatedUser, number: int) -> None:
    try:
        await user.sign_in()
        await user.think()
        await user.call("questions", "GET", "/questions")
        for spec in (TEXT[number % len(TEXT)], CHOICE[number % len(CHOICE)]):
            await user.think()
            await user.answer(spec)
        await user.call("history", "GET", "/submissions")
    except JourneyFailed:  # tallied; the assertions below report it
        pass
    finally:
        await user.close()


async def run_users(base_url: str, emails: list[str]) -> Tally:
    tally = Tally()
    users = [SimulatedUser(base_url, email, tally, register=n < REGISTERING, think=THINK, seed=n)
             for n, email in enumerate(emails)]
    await asyncio.gather(*(journey(user, n) for n, user in enumerate(users)))
    return tally


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_100_concurrent_users_on_sqlite(tmp_path) -> None:
    # Each user answers twice; the per-user limit is not what is tested here.
    site = make_site(tmp_path, None, submissions_per_window="100")
    emails = [f"user{n}@example.com" for n in range(USERS)]
    with site.session() as db:
        create_accounts(db, emails[REGISTERING:])
    base_url = f"http://127.0.0.1:{free_port()}"
    site.start("serve", "--port", base_url.rsplit(":", 1)[1], name="web")
    try:
        wait_for(lambda: _healthy(base_url), timeout=60, interval=0.2, message="the server to answer")
        # A thread of its own: the browser tests' Playwright may keep an event loop running in this one.
        with ThreadPoolExecutor(max_workers=1) as runner:
            tally = runner.submit(asyncio.run, run_users(base_url, emails)).result()
        problems = tally.problems()
        assert not problems, f"{len(problems)} failed requests, e.g.:\n" + "\n".join(sorted(set(problems))[:15])
        # Every journey polled its answers until graded; the log line follows the commit.
        expected = set(tally.submissions)
        wait_for(lambda: expected <= set(site.graded_ids()), timeout=60, interval=0.2, message="graded log lines")
    finally:
        site.stop_all()
    assert len(expected) == USERS * 2
    assert tally.requests >= USERS * 11  # sign-in (3), /questions, 2 × (question, answer, ≥ 1 poll), history
    log = (site.data_dir / "web.log").read_text(errors="replace")
    assert "database is locked" not in log
    assert "Traceback" not in log
    graded = site.graded_ids()
    assert set(graded) == expected and set(graded.values()) == {1}, graded
    with site.session() as db:
        rows = list(db.scalars(select(Submission)))
    assert {r.id for r in rows} == expected
    assert all(r.status == SubmissionStatus.graded for r in rows)
