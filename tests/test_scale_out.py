"""Two web processes and two grader workers on one PostgreSQL database, under a scripted
load of mixed user journeys: no request fails, every answer is graded exactly once."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.grading.processes import free_port, make_site, wait_for
from webapp.questions.bank import default_bank_dir, read_path
from webapp.submissions.models import Submission, SubmissionStatus

pytestmark = pytest.mark.skipif(not os.environ.get("REHEARSE_TEST_DATABASE_URL"),
                                reason="scale-out runs on PostgreSQL (CI sets REHEARSE_TEST_DATABASE_URL)")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
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

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
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

    def post(self, path: str, data: dict, *, token_from: str) -> httpx.Response:  # type: ignore[type-arg]
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
    for slug, data in [(text.slug, {"answer": strong}), (code.slug, {"code": code.reference_solution})]:
        response = journey.post(f"/questions/{slug}/submissions", data, token_from=f"/questions/{slug}")
        assert response.status_code == 303, response.text[:300]
        journey.call("GET", response.headers["location"])
    journey.call("GET", "/progress")
    return journey


def test_two_web_processes_and_two_workers(tmp_path) -> None:  # type: ignore[no-untyped-def]
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
            wait_for(lambda b=b: _healthy(b), timeout=60, interval=0.2, message=f"{b} healthy")
        with ThreadPoolExecutor(max_workers=USERS) as pool:
            journeys = list(pool.map(lambda n: candidate_journey(bases, n), range(USERS)))
        total = USERS * 2

        def graded() -> bool:
            with site.session() as db:
                return db.scalar(select(func.count()).select_from(Submission).where(
                    Submission.status == SubmissionStatus.graded)) == total

        wait_for(graded, timeout=240, interval=0.5, message="every answer graded")
    finally:
        site.stop_all()
    failures = [f for j in journeys for f in j.failures]
    assert failures == []
    assert sum(j.requests for j in journeys) >= USERS * 10
    reports = site.graded_ids()
    assert len(reports) == total and set(reports.values()) == {1}, reports
    with site.session() as db:
        rows = list(db.scalars(select(Submission)))
    assert all(r.status == SubmissionStatus.graded for r in rows)
    assert {r.kind.value for r in rows} == {"text", "code"}
    workers = {log.stem for log in site.data_dir.glob("worker-*.log") if "graded submission" in log.read_text()}
    assert workers == {"worker-a", "worker-b"}
    _drop_postgres_database(base, name)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
