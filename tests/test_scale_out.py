"""Two web processes and two grader workers on one PostgreSQL database, under a scripted
load of mixed user journeys (register, browse, answer text and code, ask for a review; an
interviewer reviews them): no request fails, every answer is graded exactly once."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import cycle

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.grading.processes import free_port, make_site
from tests.helpers import wait_for
from webapp.questions.bank import default_bank_dir, read_path
from webapp.review.models import Recommendation, Review, ReviewState
from webapp.submissions.models import Submission, SubmissionStatus

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(not os.environ.get("REHEARSE_TEST_DATABASE_URL"),
                                 reason="scale-out runs on PostgreSQL (CI sets REHEARSE_TEST_DATABASE_URL)")]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
QUEUED = re.compile(r'href="/review/(\d+)"')
USERS = 8
BANK = read_path(default_bank_dir())
TEXT = [q for q in BANK.questions if q.kind == "text"]
CODE = [q for q in BANK.questions if q.kind == "code"]


class Journey:
    """One person's session, spread over both web processes."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = cycle(bases)
        self.cookies = httpx.Cookies()
        self.failures: list[str] = []
        self.requests = 0
        self.reviewed: list[str] = []  # the interviewer's: submission ids reviewed

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        base = next(self.bases)
        self.requests += 1
        try:
            response = httpx.request(method, base + path, cookies=self.cookies, timeout=60, follow_redirects=False,
                                     **kwargs)
        except httpx.TransportError as exc:
            self.failures.append(f"{method} {path}: {exc!r}")
            raise
        self.cookies.update(response.cookies)
        if response.status_code >= 500:
            self.failures.append(f"{method} {path}: {response.status_code}")
        return response

    def token(self, path: str) -> str:
        return TOKEN.search(self.call("GET", path).text).group(1)

    def post(self, path: str, data: dict[str, str], *, token_from: str) -> httpx.Response:
        return self.call("POST", path, data={**data, "csrf_token": self.token(token_from)},
                         headers={"Origin": self.origin})

    origin = ""


def candidate_journey(bases: list[str], number: int) -> Journey:
    journey = Journey(bases)
    journey.origin = bases[0]
    email = f"load{number}@example.com"
    assert journey.post("/register", {"email": email, "display_name": f"Load {number}",
                                      "password": "a long passphrase"}, token_from="/register").status_code == 303
    assert journey.call("GET", "/questions?q=pydantic").status_code == 200
    text, code = TEXT[number % len(TEXT)], CODE[number % len(CODE)]
    strong = next(c.answer for c in text.calibration if c.expect == "strong")
    answered = []
    for slug, data in [(text.slug, {"answer": strong}), (code.slug, {"code": code.reference_solution})]:
        response = journey.post(f"/questions/{slug}/submissions", data, token_from=f"/questions/{slug}")
        assert response.status_code == 303, response.text[:300]
        answered.append(response.headers["location"])
        journey.call("GET", answered[-1])
    # As the page does: poll the status fragment until graded, then ask for a review of the text answer.
    wait_for(lambda: "pending" not in journey.call("GET", f"{answered[0]}/status", headers={"HX-Request": "true"}).text,
             timeout=120, interval=0.2, message=f"{answered[0]} graded")
    asked = journey.post(f"{answered[0]}/review-request", {}, token_from=answered[0])
    assert asked.status_code == 303, asked.text[:300]
    journey.call("GET", "/progress")
    return journey


def interviewer_journey(bases: list[str], site) -> Journey:
    """Sign up, be made an interviewer (the command line), then review every requested answer."""
    journey = Journey(bases)
    journey.origin = bases[0]
    email = "reviewer@example.com"
    journey.post("/register", {"email": email, "display_name": "Reviewer", "password": "a long passphrase"},
                 token_from="/register")
    site.cli("set-role", "--email", email, "--role", "interviewer")  # ends the session: log in again
    journey.cookies = httpx.Cookies()
    assert journey.post("/login", {"email": email, "password": "a long passphrase"},
                        token_from="/login").status_code == 303
    queued = sorted(set(QUEUED.findall(journey.call("GET", "/review").text)))
    for submission_id in queued:
        page = f"/review/{submission_id}"
        assert journey.post(f"{page}/claim", {}, token_from=page).status_code == 303
        done = journey.post(page, {"recommendation": "yes", "overall_comment": "Clear.", "action": "submit"},
                            token_from=page)
        assert done.status_code == 303, done.text[:300]
    journey.reviewed = queued
    return journey


def test_two_web_processes_and_two_workers(tmp_path) -> None:
    base = os.environ["REHEARSE_TEST_DATABASE_URL"]
    url, name = _create_postgres_database(base)
    ports = [free_port(), free_port()]
    # Both web processes answer for the same public origin, as behind a proxy.
    site = make_site(tmp_path, url, grader_concurrency="0", public_url=f"http://127.0.0.1:{ports[0]}",
                     grader_poll_seconds="0.2", submissions_per_window="100")
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for n, port in enumerate(ports):
            site.start("serve", "--port", str(port), name=f"web-{n}")
        site.start("worker", "--concurrency", "2", name="worker-a")
        site.start("worker", "--concurrency", "2", name="worker-b")
        for b in bases:
            wait_for(partial(_healthy, b), timeout=60, interval=0.2, message=f"{b} healthy")
        with ThreadPoolExecutor(max_workers=USERS) as pool:
            journeys = list(pool.map(lambda n: candidate_journey(bases, n), range(USERS)))
        total = USERS * 2

        def graded() -> bool:
            with site.session() as db:
                return db.scalar(select(func.count()).select_from(Submission).where(
                    Submission.status == SubmissionStatus.graded)) == total

        wait_for(graded, timeout=240, interval=0.5, message="every answer graded")
        reviewer = interviewer_journey(bases, site)
    finally:
        site.stop_all()
    journeys.append(reviewer)
    failures = [f for j in journeys for f in j.failures]
    assert failures == []
    assert sum(j.requests for j in journeys) >= USERS * 10
    reports = site.graded_ids()
    assert len(reports) == total and set(reports.values()) == {1}, reports
    with site.session() as db:
        rows = list(db.scalars(select(Submission)))
    assert all(r.status == SubmissionStatus.graded for r in rows)
    assert {r.kind.value for r in rows} == {"text", "code"}
    with site.session() as db:
        reviews = list(db.scalars(select(Review)))
    text_answers = {r.id for r in rows if r.kind.value == "text"}
    assert {str(r.submission_id) for r in reviews} == set(reviewer.reviewed)
    assert {r.submission_id for r in reviews} == text_answers
    assert all(r.state == ReviewState.submitted and r.recommendation == Recommendation.yes for r in reviews)
    workers = {log.stem for log in site.data_dir.glob("worker-*.log") if "graded submission" in log.read_text()}
    assert workers == {"worker-a", "worker-b"}
    _drop_postgres_database(base, name)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
