"""Data scale: page latency with 10k, 100k and 1M submissions, on SQLite and PostgreSQL.

Run: ``.venv/bin/python -m bench.data_scale`` (part of ``make bench``; PostgreSQL is used
when REHEARSE_BENCH_DATABASE_URL points at a server where it may create a database).

For each size the database gets that many graded submissions spread over 2,000
candidates (one of them, the one measured, has 5,000), a review queue of 1 % of them, and
the same 25 failed answers at every size; once grown to a size, the database is copied
(SQLite `VACUUM INTO`, PostgreSQL `CREATE DATABASE … TEMPLATE`), so all three sizes are
served side by side. The pages are served in-process (Starlette's TestClient: the app's
own time, no network), one app per size: 5 rounds, each requesting every page of every size
9 times in turn; a page's figure is the lowest of its 5 round medians. Sizes and pages
interleaved, so a burst of load from elsewhere on the machine hits them alike and does not
pass for growth. The target is that each page grows by at most 1.5× per 10× data.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from bench.common import create_postgres_database, drop_postgres_database, postgres_available
from webapp.core.config import Settings
from webapp.core.db import make_engine, utcnow
from webapp.core.migrate import upgrade_to_head
from webapp.identity.models import Role, User
from webapp.identity.passwords import make_hasher
from webapp.main import create_app
from webapp.questions.bank import default_bank_dir, read_path
from webapp.questions.importer import apply_import
from webapp.questions.models import Question
from webapp.review.models import Review
from webapp.submissions.models import Submission

SIZES = (10_000, 100_000, 1_000_000)
CANDIDATES = 2_000
MEASURED_HAS = 5_000
# The same 25 failed answers at every size: the dashboard lists up to 50 failures, and a count
# that grew with the data (1 in 5,000 gave 2, 20, 200) measured that list filling up, not scale.
FAILED = frozenset(range(7, 10_000, 400))
PAGES = {"review queue": ("admin", "/review"), "candidate history": ("candidate", "/submissions"),
         "progress page": ("candidate", "/progress"), "admin queue dashboard": ("admin", "/admin/queue")}
ROUNDS = 5
REPEAT = 9
PASSWORD = "bench passphrase"


def _snapshot(engine, backend: str, workdir: Path, size: int) -> str:
    """A copy of the database as it is now (indexes and planner statistics included); returns its URL."""
    if backend == "sqlite":
        path = workdir / f"scale-{size}.db"
        raw = engine.raw_connection()  # autocommit: VACUUM cannot run inside a transaction
        try:
            raw.driver_connection.execute(f"VACUUM INTO '{path}'")
        finally:
            raw.close()
        return f"sqlite:///{path}"
    engine.dispose()  # a template database must have no other connections
    base = engine.url.render_as_string(hide_password=False)
    copy = f"{base}_{size}"
    with create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{copy.rsplit("/", 1)[1]}" TEMPLATE "{engine.url.database}"'))
    return copy


def _seed_people(engine) -> tuple[list[int], list[tuple[int, int, str]]]:
    """Candidates (the first is the one measured) and an admin; returns candidate ids and questions."""
    hasher = make_hasher(memory_kib=19456, time_cost=2, parallelism=1)
    digest = hasher.hash(PASSWORD)
    with engine.begin() as connection:
        connection.execute(insert(User), [
            {"email": f"c{n}@example.com", "display_name": f"C{n}", "password_hash": digest, "role": Role.candidate,
             "is_active": True, "session_version": 1, "must_change_password": False, "created_at": utcnow()}
            for n in range(CANDIDATES)] + [
            {"email": "admin@example.com", "display_name": "Admin", "password_hash": digest, "role": Role.admin,
             "is_active": True, "session_version": 1, "must_change_password": False, "created_at": utcnow()}])
        candidates = [r[0] for r in connection.execute(
            select(User.id).where(User.role == Role.candidate).order_by(User.id))]
        questions = [(r.id, r.current_revision_id, r.kind.value) for r in connection.execute(
            select(Question.id, Question.current_revision_id, Question.kind))]
    return candidates, questions


def _grow(engine, *, target: int, have: int, measured: int, users: list[int], questions) -> None:
    now = utcnow()
    batch: list[dict[str, Any]] = []
    for n in range(have, target):
        owner = measured if n < MEASURED_HAS else users[n % len(users)]
        question_id, revision_id, kind = questions[n % len(questions)]
        at = now - timedelta(minutes=(n * 37) % (60 * 24 * 120))
        batch.append({"user_id": owner, "question_id": question_id, "revision_id": revision_id, "kind": kind,
                      "answer_text": "An answer.", "choice_ids": [], "code": "", "code_filename": "", "code_size": 0,
                      "code_sha256": "", "status": "failed" if n in FAILED else "graded", "attempts": 1,
                      "queued_at": at, "started_at": at, "finished_at": at, "score": (n * 7) % 101,
                      "feedback": {}, "grader": "rubric", "grader_version": "1", "error": ""})
        if len(batch) == 20_000 or n == target - 1:
            with engine.begin() as connection:
                first = connection.execute(insert(Submission).returning(Submission.id), batch).scalars().all()
                connection.execute(insert(Review), [{"submission_id": sid, "state": "requested", "requested_at": now}
                                                    for sid in first[::100]])
            batch = []


def _login(client: TestClient, email: str) -> None:
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})


def _clients(url: str, workdir: Path) -> tuple[FastAPI, dict[str, TestClient]]:
    settings = Settings(env="test", data_dir=workdir, database_url=url, secret_key="bench", grader_concurrency=0)
    app = create_app(settings)
    clients = {"admin": TestClient(app), "candidate": TestClient(app)}
    _login(clients["admin"], "admin@example.com")
    _login(clients["candidate"], "c0@example.com")
    for who, path in PAGES.values():
        assert clients[who].get(path).status_code == 200, path
    return app, clients


def _measure(sites: dict[int, dict[str, TestClient]]) -> dict[int, dict[str, float]]:
    rounds: dict[int, dict[str, list[float]]] = {size: {label: [] for label in PAGES} for size in sites}
    for _ in range(ROUNDS):  # sizes and pages interleaved, so a burst of load from elsewhere hits them alike
        for size, clients in sites.items():
            for label, (who, path) in PAGES.items():
                timings = []
                for _ in range(REPEAT):
                    started = time.perf_counter()
                    clients[who].get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                rounds[size][label].append(statistics.median(timings))
    return {size: {label: min(medians) for label, medians in pages.items()} for size, pages in rounds.items()}


def run(backend: str) -> dict[int, dict[str, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="rehearse-scale-"))
    url = f"sqlite:///{workdir / 'scale.db'}" if backend == "sqlite" else create_postgres_database("rehearse_scale")
    upgrade_to_head(url)
    engine = make_engine(url)
    with Session(engine) as db:
        apply_import(db, bank=read_path(default_bank_dir()), actor=None, source="bench")
        db.commit()
    candidates, questions = _seed_people(engine)
    copies, have = {}, 0
    for size in SIZES:
        _grow(engine, target=size, have=have, measured=candidates[0], users=candidates[1:], questions=questions)
        have = size
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        copies[size] = _snapshot(engine, backend, workdir, size)
    engine.dispose()
    apps, sites = [], {}
    try:
        for size, copy in copies.items():
            app, sites[size] = _clients(copy, workdir)
            apps.append(app)
        return _measure(sites)
    finally:
        for app in apps:
            app.state.db.dispose()
        if backend != "sqlite":
            for copy in [url, *copies.values()]:
                drop_postgres_database(copy)
        shutil.rmtree(workdir, ignore_errors=True)


def _table(backend: str, results: dict[int, dict[str, float]]) -> list[str]:
    lines = [f"| page ({backend}) | " + " | ".join(f"{s:,} (ms)" for s in SIZES) + " | worst growth per 10× |",
             "|---|" + "---|" * (len(SIZES) + 1)]
    worst = 0.0
    for label in PAGES:
        values = [results[s][label] for s in SIZES]
        growth = max(b / a for a, b in zip(values, values[1:], strict=False))
        verdict = "✓" if growth <= 1.5 else "✗"
        lines.append(f"| {label} | " + " | ".join(f"{v:.1f}" for v in values) + f" | {growth:.2f}× {verdict} |")
        worst = max(worst, growth)
    met = "**met**" if worst <= 1.5 else "**not met**"
    return lines + ["", f"Target ({backend}): each page grows by at most 1.5× per 10× data: worst {worst:.2f}×, {met}."]


def report() -> str:
    sections = ["## Data scale: pages at 10k, 100k and 1M submissions", "", __doc__.split("\n\n", 1)[1].strip(), ""]
    backends = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    for backend in backends:
        sections += _table(backend, run(backend)) + [""]
    if len(backends) == 1:
        sections.append("PostgreSQL was not measured in this run (set REHEARSE_BENCH_DATABASE_URL).")
    return "\n".join(sections)


if __name__ == "__main__":
    print(report())
