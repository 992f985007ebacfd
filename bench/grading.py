"""Grading capacity with 1 and 2 grader processes, and time to feedback at 25/50/75 % of capacity.

Run: ``.venv/bin/python -m bench.grading`` (``make bench`` runs every benchmark).

Text, choice and code answers, the same every time: a text that covers most rubric points,
the correct choices, each code challenge's reference solution (run in the bubblewrap sandbox,
every hidden test passing: the full cost).

1. Capacity of grader processes: a batch queued straight into the database is drained by 1
   or 2 ``rehearse worker --concurrency 1`` processes, started and idle beforehand;
   submissions/s from the first claim to the last stored grade (the rows' own timestamps).
   SQLite, and PostgreSQL when REHEARSE_BENCH_DATABASE_URL is set. Reference in the same
   run: the grader alone in this process, no queue, no database (for choices that is a set
   comparison, so the ratio shows what a queued job costs: claim, load, store).
2. Time to feedback in the default deployment (``rehearse serve`` on SQLite, its in-process
   grader with one thread per CPU, what ``make run`` starts), answers posted over HTTP by 20
   logged-in candidates. First the deployment's capacity: a batch posted by 8 clients as fast
   as the server takes them, answers/s from the first POST to the last grade. Then a steady
   arrival rate of 25, 50 and 75 % of that capacity, open loop: answer *i* is sent at
   start + *i* / rate whatever the earlier responses did, and timed from that moment to the
   stored grade (so the browser's polling interval is not included); split into the queue
   wait (queued → claimed) and grading (claimed → stored). The load generator shares the
   machine's 2 cores with the server.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import cycle, islice

import httpx2 as httpx
from sqlalchemy import func, select

from bench.common import (BenchSite, create_postgres_database, drop_postgres_database, free_port, make_site,
                          percentile, postgres_available, spread, wait_healthy)
from webapp.accounts.models import User
from webapp.grading.graders import default_graders
from webapp.grading.graders.base import GradingTask
from webapp.questions.bank import QuestionSpec, default_bank_dir, read_path
from webapp.questions.models import Question
from webapp.security.passwords import make_hasher
from webapp.submissions.models import Submission, SubmissionStatus

KINDS = ("text", "choice", "code")
RUNS = 3
BATCH = {"text": 1500, "choice": 1500, "code": 30}  # for the capacity runs
SECONDS = {"text": 8.0, "choice": 8.0, "code": 20.0}  # per steady-rate run
LEVELS = (0.25, 0.50, 0.75)
CANDIDATES = 20
TARGETS = {"text": 150.0, "code": 1500.0}  # p50 ms at 50 % load
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
STATUS = re.compile(r"/submissions/(\d+)/status")
TEXT_ANSWER = ("FastAPI is an ASGI framework built on Starlette, so async endpoints share an event loop, while "
               "Flask is WSGI. Pydantic models validate request bodies from type hints, bad input gets a 422, "
               "and the same declarations produce OpenAPI docs. Flask has the more mature extension ecosystem.")
BANK = [q for q in read_path(default_bank_dir()).questions if q.status == "published"]


@dataclass(frozen=True)
class Answer:
    question: QuestionSpec
    form: dict[str, str | list[str]]  # as the answer form posts it
    columns: dict[str, object]  # as the submissions row stores it


def answers(kind: str) -> list[Answer]:
    made = []
    for q in (q for q in BANK if q.kind == kind):
        if kind == "text":
            made.append(Answer(q, {"answer": TEXT_ANSWER}, {"answer_text": TEXT_ANSWER}))
        elif kind == "choice":
            correct = [c.id for c in q.choices if c.correct]
            made.append(Answer(q, {"choice": correct}, {"choice_ids": correct}))
        else:
            made.append(Answer(q, {"code": q.reference_solution}, {"code": q.reference_solution}))
    return made


def wait_graded(site: BenchSite, ids: list[int], *, timeout: float = 600) -> list:  # type: ignore[type-arg]
    """The rows of ``ids`` once none is queued or running (polling with a deadline)."""
    deadline = time.monotonic() + timeout
    with site.session() as db:
        while db.scalar(select(func.count()).select_from(Submission).where(
                Submission.id.in_(ids), Submission.status.in_([SubmissionStatus.queued, SubmissionStatus.running]))):
            db.rollback()
            if time.monotonic() > deadline:
                raise RuntimeError(f"grading did not finish within {timeout} s")
            time.sleep(0.05)
        return list(db.execute(select(Submission.status, Submission.queued_at, Submission.started_at,
                                      Submission.finished_at, Submission.id).where(Submission.id.in_(ids))))


def _rate(rows: list, since: Callable[[list], datetime]) -> float:  # type: ignore[type-arg]
    return len(rows) / (max(r.finished_at for r in rows) - since(rows)).total_seconds()


# 1. grader processes ---------------------------------------------------------------------
def _queue_batch(site: BenchSite, kind: str) -> list[int]:
    with site.session() as db:
        user_id = db.scalar(select(User.id).limit(1))
        questions = {q.slug: q for q in db.scalars(select(Question).where(Question.kind == kind))}
        rows = [Submission(user_id=user_id, question_id=questions[a.question.slug].id, kind=kind,
                           revision_id=questions[a.question.slug].current_revision_id, **a.columns)
                for a in islice(cycle(answers(kind)), BATCH[kind])]
        db.add_all(rows)
        db.commit()
        return [row.id for row in rows]


def process_capacity(site: BenchSite, kind: str, processes: int, run: int) -> float:
    logs = [f"worker-{kind}-{processes}-{run}-{n}.log" for n in range(processes)]
    workers = [site.start("worker", "--concurrency", "1", log=name) for name in logs]
    try:
        deadline = time.monotonic() + 60
        while not all("started" in (site.data_dir / name).read_text() for name in logs):
            if time.monotonic() > deadline:
                raise RuntimeError("grader workers did not start")
            time.sleep(0.05)
        rows = wait_graded(site, _queue_batch(site, kind))
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    return _rate(rows, lambda rows: min(r.started_at for r in rows))


def grader_alone(kind: str) -> float:
    grader = default_graders(sandbox="bwrap")[kind]
    tasks = [GradingTask(kind=kind, answer_text=TEXT_ANSWER, choice_ids=tuple(a.columns.get("choice_ids", ())),
                         code=a.question.reference_solution, rubric=tuple(p.model_dump() for p in a.question.rubric),
                         choices=tuple(c.model_dump() for c in a.question.choices), multiple=a.question.multiple,
                         hidden_tests=a.question.hidden_tests,
                         limits=a.question.limits.model_dump() if a.question.limits else {})
             for a in answers(kind)]
    started = time.perf_counter()
    for task in islice(cycle(tasks), BATCH[kind]):
        grader.grade(task)
    return BATCH[kind] / (time.perf_counter() - started)


def capacity_table(backend: str) -> list[str]:
    url = None if backend == "sqlite" else create_postgres_database("rehearse_grading")
    try:
        site = make_site(database_url=url, grader_poll_seconds="0.2", sandbox="bwrap")
        lines = [f"| {backend} | grader alone, this process (reference) | 1 process | 2 processes | "
                 "1 process / alone | 2 processes / 1 |", "|---|---|---|---|---|---|"]
        for kind in KINDS:
            alone = [grader_alone(kind) for _ in range(RUNS)] if backend == "sqlite" else []
            one, two = [], []
            for run in range(RUNS):  # interleaved, so a burst of load from elsewhere hits both alike
                one.append(process_capacity(site, kind, 1, run))
                two.append(process_capacity(site, kind, 2, run))
            reference = f"{spread(alone)}" if alone else "(see SQLite)"
            ratio = f"{statistics.median(one) / statistics.median(alone):.1%}" if alone else "–"
            lines.append(f"| {kind} ({BATCH[kind]:,} answers) | {reference} | {spread(one)} | {spread(two)} | "
                         f"{ratio} | {statistics.median(two) / statistics.median(one):.2f}× |")
        return lines
    finally:
        if url:
            drop_postgres_database(url)


# 2. time to feedback in the default deployment -------------------------------------------
@dataclass
class Poster:
    client: httpx.AsyncClient
    token: str


async def _post(poster: Poster, answer: Answer, sent: datetime, into: dict[int, datetime], errors: list[str]) -> None:
    try:
        response = await poster.client.post(f"/questions/{answer.question.slug}/submissions",
                                            data={**answer.form, "csrf_token": poster.token},
                                            headers={"HX-Request": "true"})
    except httpx.TransportError as exc:
        errors.append(repr(exc))
        return
    found = STATUS.search(response.text)
    if response.status_code != 200 or not found:
        errors.append(str(response.status_code))
    else:
        into[int(found.group(1))] = sent


async def _log_in(base: str, number: int, slug: str) -> Poster:
    client = httpx.AsyncClient(base_url=base, timeout=120)
    token = TOKEN.search((await client.get("/login")).text).group(1)
    await client.post("/login", data={"email": f"bench{number}@example.com", "password": "bench passphrase",
                                      "csrf_token": token})
    return Poster(client, TOKEN.search((await client.get(f"/questions/{slug}")).text).group(1))


async def _flat_out(posters: list[Poster], kind: str) -> tuple[dict[int, datetime], list[str], datetime]:
    sent: dict[int, datetime] = {}
    errors: list[str] = []
    work = iter(enumerate(islice(cycle(answers(kind)), BATCH[kind] // 3 if kind != "code" else BATCH[kind])))
    first = datetime.now(timezone.utc)

    async def client(poster: Poster) -> None:
        for _, answer in work:
            await _post(poster, answer, datetime.now(timezone.utc), sent, errors)

    await asyncio.gather(*(client(p) for p in posters[:8]))
    return sent, errors, first


async def _steady(posters: list[Poster], kind: str, rate: float) -> tuple[dict[int, datetime], list[str]]:
    sent: dict[int, datetime] = {}
    errors: list[str] = []
    loop = asyncio.get_running_loop()
    start, wall = loop.time() + 0.1, datetime.now(timezone.utc) + timedelta(seconds=0.1)
    tasks = []
    for n, answer in enumerate(islice(cycle(answers(kind)), int(rate * SECONDS[kind]))):
        await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
        tasks.append(asyncio.create_task(_post(posters[n % len(posters)], answer,
                                               wall + timedelta(seconds=n / rate), sent, errors)))
    await asyncio.gather(*tasks)
    return sent, errors


def _ms(delta: timedelta) -> float:
    return delta.total_seconds() * 1000


def feedback_figures(site: BenchSite, sent: dict[int, datetime], errors: list[str]) -> dict[str, float]:
    rows = wait_graded(site, list(sent))
    graded = [r for r in rows if r.status == SubmissionStatus.graded]
    parts = {"feedback": [_ms(r.finished_at - sent[r.id]) for r in graded],
             "wait": [_ms(r.started_at - r.queued_at) for r in graded],
             "grading": [_ms(r.finished_at - r.started_at) for r in graded]}
    figures = {f"{name} p{p}": percentile(values, p) for name, values in parts.items() for p in (50, 95, 99)}
    return {**figures, "failed": float(len(errors) + len(rows) - len(graded))}


def _seed_candidates(site: BenchSite) -> None:
    digest = make_hasher(memory_kib=19456, time_cost=2, parallelism=1).hash("bench passphrase")
    with site.session() as db:
        db.add_all(User(email=f"bench{n}@example.com", display_name=f"Bench {n}", password_hash=digest)
                   for n in range(CANDIDATES))
        db.commit()


async def _deployment(base: str, site: BenchSite) -> dict[str, dict[str, list[float]]]:
    posters = [await _log_in(base, n, BANK[0].slug) for n in range(CANDIDATES)]
    results: dict[str, dict[str, list[float]]] = {}
    for kind in KINDS:
        capacity = []
        for _ in range(RUNS):
            sent, errors, first = await _flat_out(posters, kind)
            capacity.append(_rate(wait_graded(site, list(sent)), lambda rows: first))
        figures: dict[str, list[float]] = {"capacity": capacity}
        for level in LEVELS:
            rate = level * statistics.median(capacity)
            for _ in range(RUNS):
                for name, value in feedback_figures(site, *await _steady(posters, kind, rate)).items():
                    figures.setdefault(f"{level}:{name}", []).append(value)
        results[kind] = figures
    for poster in posters:
        await poster.client.aclose()
    return results


def feedback_tables() -> list[str]:
    site = make_site(submissions_per_window="1000000", sandbox="bwrap")
    _seed_candidates(site)
    port = free_port()
    server = site.start("serve", "--port", str(port), log="server.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        results = asyncio.run(_deployment(f"http://127.0.0.1:{port}", site))
    finally:
        server.terminate()
        server.wait(timeout=60)
    columns = [f"{name} p{p}" for name in ("feedback", "wait", "grading") for p in (50, 95, 99)]
    lines = []
    for kind, figures in results.items():
        capacity = statistics.median(figures["capacity"])
        lines += [f"**{kind}**: deployment capacity {spread(figures['capacity'])} answers/s (flat out, "
                  f"{BATCH[kind] // 3 if kind != 'code' else BATCH[kind]} answers).", "",
                  "| load | answers/s | " + " | ".join(c.replace("feedback", "POST → graded").replace(
                      "wait", "queue wait") for c in columns) + " | failed |",
                  "|---|---|" + "---|" * (len(columns) + 1)]
        for level in LEVELS:
            cells = " | ".join(spread(figures[f"{level}:{c}"]) for c in columns)
            lines.append(f"| {level:.0%} | {level * capacity:.1f} | {cells} | {spread(figures[f'{level}:failed'])} |")
        if kind in TARGETS:
            p50 = statistics.median(figures["0.5:feedback p50"])
            verdict = "**met**" if p50 < TARGETS[kind] else "**missed**"
            lines += ["", f"Target: {kind} feedback p50 under {TARGETS[kind]:,.0f} ms at 50 % load — "
                          f"measured {p50:,.0f} ms, {verdict}."]
        lines.append("")
    return lines


def report() -> str:
    backends = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    capacity = [line for backend in backends for line in capacity_table(backend) + [""]]
    return "\n".join([
        "## Grading: capacity and time to feedback", "", __doc__.split("\n\n", 1)[1].strip(), "",
        "### Grading capacity (submissions/s, min / median / max of 3 runs)", "", *capacity,
        "### Time to feedback in the default deployment (ms, min / median / max of 3 runs)", "",
        *feedback_tables(),
    ])


if __name__ == "__main__":
    print(report())
