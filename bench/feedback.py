"""Time to feedback and grading throughput for text answers.

Run: ``.venv/bin/python -m bench.feedback`` (``make bench`` runs every benchmark).

1. Time to feedback: 20 candidates answer text questions concurrently against a real
   server (SQLite, in-process grader with 2 threads). Measured from the moment the POST
   is sent to the grade being stored (``finished_at``), so no polling interval is
   included; split into queue wait and grading time. Reference in the same run: the
   round trip of GET /healthz from the same clients under the same load.
2. Throughput: 2,000 queued text answers graded by `rehearse worker` with 1 and 2
   threads, against the reference of the RubricGrader alone, in this process.
"""

from __future__ import annotations

import random
import re
import statistics
import threading
import time
from datetime import datetime, timezone

import httpx2 as httpx
from sqlalchemy import func, select

from bench.common import free_port, make_site, percentile, spread, wait_healthy
from webapp.grading.graders import default_graders
from webapp.grading.graders.base import GradingTask
from webapp.questions.bank import default_bank_dir, read_path
from webapp.submissions.models import Submission, SubmissionStatus

CANDIDATES = 20
ANSWERS_EACH = 10
RUNS = 3
THINK_SECONDS = (0.5, 1.5)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWER = ("FastAPI is an ASGI framework built on Starlette, so async endpoints share an event loop, while "
          "Flask is WSGI. Pydantic models validate request bodies from type hints, bad input gets a 422, "
          "and the same declarations produce OpenAPI docs. Flask has the more mature extension ecosystem.")


def _candidate(url: str, number: int, slugs: list[str], sent: dict, healthz: list, errors: list,  # type: ignore[no-untyped-def]
               think: bool) -> None:
    email = f"bench{number}@example.com"
    with httpx.Client(base_url=url, timeout=30) as client:
        token = TOKEN.search(client.get("/login").text).group(1)
        client.post("/login", data={"email": email, "password": "bench passphrase", "csrf_token": token})
        for n in range(ANSWERS_EACH):
            slug = slugs[(number + n) % len(slugs)]
            token = TOKEN.search(client.get(f"/questions/{slug}").text).group(1)
            started = datetime.now(timezone.utc)
            response = client.post(f"/questions/{slug}/submissions", data={"answer": ANSWER, "csrf_token": token},
                                   headers={"HX-Request": "true"})
            found = re.search(r"/submissions/(\d+)/status", response.text)
            if response.status_code != 200 or not found:
                errors.append(response.status_code)
                continue
            sent[int(found.group(1))] = started
            t0 = time.perf_counter()
            client.get("/healthz")
            healthz.append((time.perf_counter() - t0) * 1000)
            if think:  # a candidate reads the feedback before answering again
                time.sleep(random.uniform(*THINK_SECONDS))


def time_to_feedback(*, think: bool) -> dict[str, list[float]]:
    site = make_site(grader_concurrency="2", grader_poll_seconds="1.0", submissions_per_window="1000")
    for number in range(CANDIDATES):
        site.cli("create-user", "--email", f"bench{number}@example.com", "--password-stdin", stdin="bench passphrase\n")
    slugs = [q.slug for q in read_path(default_bank_dir()).questions if q.kind == "text"]
    port = free_port()
    server = site.start("serve", "--port", str(port), log="server.log")
    results: dict[str, list[float]] = {"p50": [], "p95": [], "wait": [], "grade": [], "healthz": [], "errors": []}
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        for _ in range(RUNS):
            sent: dict[int, datetime] = {}
            healthz: list[float] = []
            errors: list[int] = []
            threads = [threading.Thread(target=_candidate, args=(f"http://127.0.0.1:{port}", n, slugs, sent,
                                                                   healthz, errors, think)) for n in range(CANDIDATES)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            with site.session() as db:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and db.scalar(select(func.count()).select_from(Submission).where(
                        Submission.status != SubmissionStatus.graded)):
                    time.sleep(0.1)
                rows = db.execute(select(Submission.id, Submission.queued_at, Submission.started_at,
                                         Submission.finished_at).where(Submission.id.in_(sent))).all()
            feedback = [(r.finished_at.replace(tzinfo=timezone.utc) - sent[r.id]).total_seconds() * 1000 for r in rows]
            results["p50"].append(percentile(feedback, 50))
            results["p95"].append(percentile(feedback, 95))
            results["wait"].append(statistics.median((r.started_at - r.queued_at).total_seconds() * 1000 for r in rows))
            results["grade"].append(statistics.median((r.finished_at - r.started_at).total_seconds() * 1000 for r in rows))
            results["healthz"].append(percentile(healthz, 50))
            results["errors"].append(float(len(errors)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def _queue(site, count: int) -> None:  # type: ignore[no-untyped-def]
    from webapp.accounts.models import User
    from webapp.questions.models import Question

    with site.session() as db:
        user = db.scalar(select(User).limit(1))
        questions = list(db.scalars(select(Question).where(Question.kind == "text")))
        db.add_all(Submission(user_id=user.id, question_id=q.id, revision_id=q.current_revision_id, kind=q.kind,
                              answer_text=ANSWER) for q in (questions[n % len(questions)] for n in range(count)))
        db.commit()


def throughput(threads: int, count: int = 2000) -> float:
    site = make_site(grader_poll_seconds="0.2")
    _queue(site, count)
    worker = site.start("worker", "--concurrency", str(threads), log="worker.log")
    started = time.perf_counter()
    try:
        with site.session() as db:
            while db.scalar(select(func.count()).select_from(Submission).where(
                    Submission.status == SubmissionStatus.graded)) < count:
                time.sleep(0.05)
                db.expire_all()
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return count / (time.perf_counter() - started)


def grader_alone(count: int = 2000) -> float:
    bank = read_path(default_bank_dir())
    grader = default_graders()["text"]
    tasks = [GradingTask(kind="text", answer_text=ANSWER, rubric=tuple(p.model_dump() for p in q.rubric))
             for q in bank.questions if q.kind == "text"]
    started = time.perf_counter()
    for n in range(count):
        grader.grade(tasks[n % len(tasks)])
    return count / (time.perf_counter() - started)


def _feedback_rows(label: str, feedback: dict[str, list[float]]) -> list[str]:
    ratio = statistics.median(feedback["p50"]) / statistics.median(feedback["healthz"])
    return [
        f"| {label}: time to feedback p50 | {spread(feedback['p50'])} |",
        f"| {label}: time to feedback p95 | {spread(feedback['p95'])} |",
        f"| {label}: queue wait (median) | {spread(feedback['wait'])} |",
        f"| {label}: grading (median) | {spread(feedback['grade'])} |",
        f"| {label}: reference GET /healthz p50, same load | {spread(feedback['healthz'])} |",
        f"| {label}: failed requests | {spread(feedback['errors'])} |",
        f"| {label}: ratio feedback p50 / healthz p50 | {ratio:.1f}× |",
    ]


def report() -> str:
    paced = time_to_feedback(think=True)
    flat_out = time_to_feedback(think=False)
    reference = [grader_alone() for _ in range(RUNS)]
    one = [throughput(1) for _ in range(RUNS)]
    two = [throughput(2) for _ in range(RUNS)]
    return "\n".join([
        "## Text answers: time to feedback and grading throughput",
        "",
        f"{CANDIDATES} concurrent candidates × {ANSWERS_EACH} answers, {RUNS} runs; a real server on SQLite with the "
        "in-process grader (2 threads); load generator on the same 2 cores. Time from sending the POST to the "
        "stored grade (the browser's polling interval is not included). *Paced*: each candidate reads the "
        f"feedback for {THINK_SECONDS[0]}–{THINK_SECONDS[1]} s before the next answer. *Flat out*: no pause, "
        "the server saturated. Figures are min / median / max over the runs.",
        "",
        "| measure | ms |",
        "|---|---|",
        *_feedback_rows("paced", paced),
        *_feedback_rows("flat out", flat_out),
        "",
        "| grading throughput (2,000 queued text answers) | submissions/s |",
        "|---|---|",
        f"| reference: RubricGrader alone, one thread, no database | {spread(reference)} |",
        f"| `rehearse worker --concurrency 1` | {spread(one)} |",
        f"| `rehearse worker --concurrency 2` | {spread(two)} |",
        "",
        f"Queue overhead: one worker thread reaches {statistics.median(one) / statistics.median(reference):.0%} "
        "of the bare grader's rate.",
        "",
    ])


if __name__ == "__main__":
    print(report())
