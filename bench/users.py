"""100 concurrent users on SQLite: the default single-machine deployment under realistic journeys.

Run: ``.venv/bin/python -m bench.users`` (prints the report section).

1. A fresh throwaway site per run (SQLite, the shipped question bank), so the runs are independent
   and each starts from the same database; 80 candidate accounts are created beforehand, 20 users
   sign up during the run. The per-user submission limit is raised (a user here answers faster than
   the default 30 per 10 minutes allows); nothing else differs from the defaults.
2. ``rehearse serve``: one uvicorn process with its in-process grader (one thread per CPU and a
   quick lane for text and choice), at most 4 requests in the app at once (the default), the real sandbox
   (bubblewrap when installed) and the access log on.
3. 100 users in one asyncio process (httpx2, one client and cookie jar each), on the same 2 cores,
   for 60 s: log in or sign up, then rounds of: /questions, a search and a filter (as htmx sends
   them), a text and a multiple-choice answer (a code challenge in 30 % of rounds), each polled as
   htmx polls the status fragment until graded; the history, one answer, /progress; log out and in
   again in 15 % of rounds; 0.2–1.0 s of thinking between steps (``bench/journeys.py``).
4. Reference in the same run: GET /healthz from its own client 4 times a second under that load.
5. Afterwards: the server log is searched for ``database is locked`` and ``Traceback``, and the
   database is polled (with a deadline) until every stored answer is graded.
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import statistics
import time
from collections import Counter
from dataclasses import dataclass

import httpx2 as httpx
from sqlalchemy import func, select

from bench.common import BenchSite, free_port, make_site, percentile, rss_mib, spread, stop_server, wait_healthy
from bench.journeys import JourneyFailed, SimulatedUser, Tally, TimeUp, create_accounts
from webapp.submissions.models import Submission, SubmissionStatus

USERS, REGISTERING = 100, 20
SECONDS = 60
RUNS = 3
THINK = (0.2, 1.0)
CODE_SHARE, LOGOUT_SHARE = 0.3, 0.15
HEALTHZ_EVERY = 0.25
GRADED_DEADLINE = 180.0
GRADED_LINE = re.compile(r"graded submission (\d+):")
KINDS = ["register page", "register", "login page", "login", "home", "questions", "questions: search",
         "questions: filters", "question", "submit text", "submit choice", "submit code", "status poll", "history",
         "submission", "progress", "logout"]
TARGET = f"zero errors (no 5xx, no `database is locked`) at {USERS} concurrent simulated users on SQLite"


@dataclass
class Run:
    seconds: float
    tally: Tally
    healthz: list[float]
    locked: int  # "database is locked" in the server log
    tracebacks: int
    stored: int
    graded: int
    graded_twice: int
    drain: float  # seconds from the end of the load until every stored answer was graded (or the deadline)
    queue_wait: float  # median ms from queued to a grader starting, over the graded answers
    grading: float  # median ms from started to graded
    kept: str  # the site directory, kept (server log and database) when the run was not clean
    rss: float  # MiB resident in the web process right after the load

    @property
    def errors(self) -> int:
        """What the target counts: 5xx, failed requests and a locked database."""
        return len(self.tally.server_errors) + len(self.tally.transport_errors) + self.locked

    @property
    def clean(self) -> bool:
        """The target, plus everything else a user could notice: odd statuses, lost or twice-graded answers."""
        return (self.errors == 0 and not self.tally.problems() and self.tracebacks == 0 and self.graded_twice == 0
                and self.graded == self.stored == len(self.tally.submissions))


async def _user(user: SimulatedUser) -> None:
    """Sign in, then rounds until the time is up; after a failure (tallied) start again from a fresh browser."""
    try:
        while True:
            try:
                if not user.signed_in:
                    await user.sign_in()
                await user.think()
                await user.round(code_share=CODE_SHARE, logout_share=LOGOUT_SHARE)
            except JourneyFailed:
                user.reset()
                await user.think()
    except TimeUp:
        pass
    finally:
        await user.close()


async def _probe(base_url: str, until: float, latencies: list[float], tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                response = await client.get("/healthz")
            except httpx.HTTPError as exc:
                tally.transport_errors.append(f"GET /healthz: {exc!r}")
            else:
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    tally.server_errors.append(f"GET /healthz: {response.status_code}")
            await asyncio.sleep(HEALTHZ_EVERY)


async def _load(base_url: str, emails: list[str]) -> tuple[Tally, list[float]]:
    until = time.monotonic() + SECONDS
    tally, healthz = Tally(), []
    users = [SimulatedUser(base_url, email, tally, register=n < REGISTERING, think=THINK, seed=n, until=until)
             for n, email in enumerate(emails)]
    await asyncio.gather(*(_user(u) for u in users), _probe(base_url, until, healthz, tally))
    return tally, healthz


def _wait_graded(site: BenchSite) -> tuple[int, int, float]:
    """Stored and graded answers, polling until they match or GRADED_DEADLINE passes; and how long it took."""
    started = time.monotonic()
    with site.session() as db:
        while True:
            stored = db.scalar(select(func.count()).select_from(Submission))
            graded = db.scalar(select(func.count()).select_from(Submission)
                               .where(Submission.status == SubmissionStatus.graded))
            db.rollback()  # the next poll reads a fresh snapshot
            elapsed = time.monotonic() - started
            if graded == stored or elapsed > GRADED_DEADLINE:
                return stored, graded, elapsed
            time.sleep(0.2)


def _grading_times(site: BenchSite) -> tuple[float, float]:
    """Median queue wait and grading time (ms) of the graded answers: where time to feedback goes."""
    with site.session() as db:
        rows = db.execute(select(Submission.queued_at, Submission.started_at, Submission.finished_at)
                          .where(Submission.status == SubmissionStatus.graded)).all()
    if not rows:
        return math.nan, math.nan
    return (statistics.median((r.started_at - r.queued_at).total_seconds() * 1000 for r in rows),
            statistics.median((r.finished_at - r.started_at).total_seconds() * 1000 for r in rows))


def one_run() -> Run:
    site = make_site(submissions_per_window="1000")
    emails = [f"user{n}@example.com" for n in range(USERS)]
    with site.session() as db:
        create_accounts(db, emails[REGISTERING:])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = site.start("serve", "--port", str(port), log="server.log")
    try:
        wait_healthy(url, timeout=60)
        started = time.monotonic()
        tally, healthz = asyncio.run(_load(url, emails))
        seconds = time.monotonic() - started
        rss = rss_mib(server.pid)
        stored, graded, drain = _wait_graded(site)
    finally:
        stop_server(server)
    queue_wait, grading = _grading_times(site)
    log = (site.data_dir / "server.log").read_text(errors="replace")
    twice = sum(1 for count in Counter(GRADED_LINE.findall(log)).values() if count > 1)
    run = Run(seconds=seconds, tally=tally, healthz=healthz, locked=log.count("database is locked"),
              tracebacks=log.count("Traceback"), stored=stored, graded=graded, graded_twice=twice, drain=drain,
              queue_wait=queue_wait, grading=grading, kept=str(site.data_dir), rss=rss)
    if run.clean:
        shutil.rmtree(site.data_dir.parent, ignore_errors=True)
    return run


def _known(values: list[float]) -> str:
    """The spread over the runs that have the figure (a run without graded answers has no queue wait)."""
    known = [v for v in values if not math.isnan(v)]
    return spread(known) if known else "–"


def _latency(samples: list[list[float]], p: float) -> str:
    return _known([percentile(s, p) for s in samples])


def format_report(runs: list[Run]) -> str:
    met = all(r.errors == 0 for r in runs)
    clean = all(r.clean for r in runs)

    def row(label: str, values: list[float]) -> str:
        return f"| {label} | {spread(values)} |"

    kinds = []
    for kind in KINDS:
        samples = [r.tally.latencies.get(kind, []) for r in runs]
        kinds.append(f"| {kind} | {spread([float(len(s)) for s in samples])} | {_latency(samples, 50)} | "
                     f"{_latency(samples, 99)} |")
    healthz = [r.healthz for r in runs]
    kept = [r.kept for r in runs if not r.clean]
    feedback = [r.tally.feedback_ms for r in runs]
    # Grouped with the numbers masked, so one kind of failure on many answers is one line.
    problems = Counter(re.sub(r"\d+", "N", p) for r in runs for p in r.tally.problems())
    per_run = [f"| {n} | {r.tally.requests} | {len(r.tally.server_errors)} | {len(r.tally.transport_errors)} | "
               f"{r.locked} | {len(r.tally.unexpected)} | {r.tracebacks} | {r.stored} / {r.graded} |"
               for n, r in enumerate(runs, 1)]
    return "\n".join([
        "## 100 concurrent users on SQLite",
        "",
        f"Target: {TARGET}. **{'✓ met' if met else '✗ not met'}** ({RUNS} runs"
        f"{'' if clean else '; see the problems below'}).",
        "",
        f"{RUNS} runs, each on a fresh site: `rehearse serve` (1 uvicorn process, in-process grader with one thread "
        "per CPU and a quick lane, at most 4 requests in the app at once, SQLite in WAL mode, the bubblewrap sandbox; "
        "defaults except a raised per-user submission limit). "
        f"{USERS} users ({REGISTERING} sign up, the others log in), one httpx2 client each in one asyncio process "
        f"on the same 2 cores, for {SECONDS} s: /questions, a search and a filter; a text and a multiple-choice "
        f"answer ({CODE_SHARE:.0%} of rounds also a code challenge), each polled as htmx does until graded; the "
        f"history, one answer, /progress; log out and in again in {LOGOUT_SHARE:.0%} of rounds; "
        f"{THINK[0]}–{THINK[1]} s between steps. Latency is measured at the client, so it includes the load "
        "generator's share of the CPU. The reference is `GET /healthz` (no session, one `SELECT 1`) from its own "
        "client, 4 times a second, under the same load. Figures are min / median / max over the runs.",
        "",
        "| measure | min / median / max |",
        "|---|---|",
        row("requests", [float(r.tally.requests) for r in runs]),
        row("requests/s", [r.tally.requests / r.seconds for r in runs]),
        row("5xx responses", [float(len(r.tally.server_errors)) for r in runs]),
        row("transport errors and timeouts", [float(len(r.tally.transport_errors)) for r in runs]),
        row("`database is locked` in the server log", [float(r.locked) for r in runs]),
        row("unexpected statuses or pages (e.g. 403, 422)", [float(len(r.tally.unexpected)) for r in runs]),
        row("`Traceback` in the server log", [float(r.tracebacks) for r in runs]),
        row("answers submitted (seen by the clients)", [float(len(r.tally.submissions)) for r in runs]),
        row("answers stored", [float(r.stored) for r in runs]),
        row(f"answers graded (database polled up to {GRADED_DEADLINE:.0f} s after the load)",
            [float(r.graded) for r in runs]),
        row("answers graded more than once (server log)", [float(r.graded_twice) for r in runs]),
        row("s after the load until every answer was graded", [r.drain for r in runs]),
        f"| time to feedback p50 ms (POST sent → graded fragment) | {_latency(feedback, 50)} |",
        f"| time to feedback p99 ms | {_latency(feedback, 99)} |",
        f"| of which queue wait, median ms (database timestamps) | {_known([r.queue_wait for r in runs])} |",
        f"| of which grading, median ms | {_known([r.grading for r in runs])} |",
        row("web process resident memory after the load, MiB", [r.rss for r in runs]),
        "",
        "| page kind | requests per run | p50 ms | p99 ms |",
        "|---|---|---|---|",
        f"| **reference: `GET /healthz`** | {spread([float(len(h)) for h in healthz])} | {_latency(healthz, 50)} | "
        f"{_latency(healthz, 99)} |",
        *kinds,
        "",
        "| run | requests | 5xx | transport errors | `database is locked` | unexpected | `Traceback` | "
        "answers stored / graded |",
        "|---|---|---|---|---|---|---|---|",
        *per_run,
        "",
        *([f"What the users saw, most frequent first ({sum(problems.values())} in all; numbers masked as N):", "",
           *[f"- {count} × `" + p[:300].replace("`", "'") + "`" for p, count in problems.most_common(10)], ""]
          if problems else []),
        *([f"Server logs and databases of the runs that were not clean: {', '.join(kept)}.", ""] if kept else []),
    ])


def report() -> str:
    return format_report([one_run() for _ in range(RUNS)])


if __name__ == "__main__":
    print(report())
