"""Grading capacity: submissions/s with 1 and 2 grader processes, for text, choice and code.

Run: ``.venv/bin/python -m bench.grading_capacity`` (``make bench`` runs every benchmark).

A batch queued straight into the database is drained by 1 or 2 ``rehearse worker
--concurrency 1`` processes (one thread for every kind, plus the quick lane's thread for text
and choice), started and idle beforehand; submissions/s from the first claim
to the last stored grade (the rows' own timestamps). Code runs in the bubblewrap sandbox.
SQLite, and PostgreSQL when REHEARSE_BENCH_DATABASE_URL is set; the runs of 1 and 2
processes are interleaved. Reference in the same run: the grader alone in this process, no
queue, no database (for choices that is a set comparison, so the ratio shows what a queued
job costs: claim, load, store).
"""

from __future__ import annotations

import statistics
import time
from itertools import cycle, islice

from sqlalchemy import select

from bench.answers import KINDS, RUNS, TEXT_ANSWER, answers, graded_per_second, wait_graded
from bench.common import (
    BenchSite,
    create_postgres_database,
    drop_postgres_database,
    make_site,
    postgres_available,
    spread,
)
from webapp.grading.graders import default_graders
from webapp.grading.graders.base import GradingTask
from webapp.identity.models import User
from webapp.questions.models import Question, QuestionKind
from webapp.submissions.models import Submission

BATCH = {"text": 1500, "choice": 1500, "code": 30}


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
    return graded_per_second(rows, since=min(r.started_at for r in rows))


def grader_alone(kind: str) -> float:
    grader = default_graders(sandbox="bwrap")[kind]
    tasks = [GradingTask(kind=QuestionKind(kind), answer_text=TEXT_ANSWER,
                         choice_ids=tuple(a.columns.get("choice_ids", ())),
                         code=a.question.reference_solution, rubric=tuple(a.question.rubric),
                         choices=tuple(a.question.choices), multiple=a.question.multiple,
                         hidden_tests=a.question.hidden_tests, limits=a.question.limits)
             for a in answers(kind)]
    started = time.perf_counter()
    for task in islice(cycle(tasks), BATCH[kind]):
        grader.grade(task)
    return BATCH[kind] / (time.perf_counter() - started)


def capacity_table(backend: str, alone: dict[str, list[float]]) -> list[str]:
    url = None if backend == "sqlite" else create_postgres_database("rehearse_grading")
    try:
        site = make_site(database_url=url, grader_poll_seconds="0.2", sandbox="bwrap")
        lines = [f"| {backend} | grader alone, this process (reference) | 1 process | 2 processes | "
                 "1 process / alone | 2 processes / 1 |", "|---|---|---|---|---|---|"]
        for kind in KINDS:
            one, two = [], []
            for run in range(RUNS):
                one.append(process_capacity(site, kind, 1, run))
                two.append(process_capacity(site, kind, 2, run))
            lines.append(f"| {kind} ({BATCH[kind]:,} answers) | {spread(alone[kind])} | {spread(one)} | "
                         f"{spread(two)} | {statistics.median(one) / statistics.median(alone[kind]):.1%} | "
                         f"{statistics.median(two) / statistics.median(one):.2f}× |")
        return lines
    finally:
        if url:
            drop_postgres_database(url)


def report() -> str:
    alone = {kind: [grader_alone(kind) for _ in range(RUNS)] for kind in KINDS}
    backends = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    tables = [line for backend in backends for line in capacity_table(backend, alone) + [""]]
    if len(backends) == 1:
        tables.append("PostgreSQL was not measured in this run (set REHEARSE_BENCH_DATABASE_URL).\n")
    return "\n".join(["## Grading capacity: 1 and 2 grader processes", "", __doc__.split("\n\n", 1)[1].strip(), "",
                      "Submissions/s, min / median / max of 3 runs.", "", *tables])


if __name__ == "__main__":
    print(report())
