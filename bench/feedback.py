"""Time to feedback at a steady 25, 50 and 75 % of a deployment's capacity, for text, choice and code.

Run: ``.venv/bin/python -m bench.feedback`` (``make bench`` runs every benchmark).

Answers are posted over HTTP by 20 logged-in candidates. First the deployment's capacity: a
batch posted by 8 clients as fast as the server takes them, answers/s from the first POST to
the last stored grade. Then steady arrival rates of 25, 50 and 75 % of that capacity, open
loop: answer *i* is sent at start + *i* / rate whatever the earlier responses did, and timed
from that moment to the stored grade, so the browser's polling interval is not included;
split into the queue wait (queued → claimed) and grading (claimed → stored). Code runs in
the bubblewrap sandbox. The load generator shares the machine's 2 cores with the server.

- *default*: ``rehearse serve`` on SQLite with its in-process grader (one thread per CPU and
  a quick lane), what ``make run`` starts; the web process wakes its graders when an answer arrives.
- *scale-out* (when REHEARSE_BENCH_DATABASE_URL is set): a web-only ``rehearse serve`` and two
  ``rehearse worker --concurrency 1`` processes (each with its quick lane) on PostgreSQL, woken
  by ``NOTIFY``.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle, islice

import httpx2 as httpx

from bench.answers import BANK, KINDS, RUNS, Answer, answers, graded_per_second, wait_graded
from bench.common import (
    BenchSite,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    make_site,
    percentile,
    postgres_available,
    spread,
    wait_healthy,
)
from webapp.identity.models import User
from webapp.identity.passwords import make_hasher
from webapp.submissions.models import SubmissionStatus

FLAT_OUT = {"text": 500, "choice": 500, "code": 30}  # answers per capacity run
SECONDS = {"text": 8.0, "choice": 8.0, "code": 20.0}  # per steady-rate run
LEVELS = (0.25, 0.50, 0.75)
CANDIDATES = 20
TARGETS = {"text": 150.0, "code": 1500.0}  # p50 ms at 50 % load
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
STATUS = re.compile(r"/submissions/(\d+)/status")
COLUMNS = [f"{name} p{p}" for name in ("feedback", "wait", "grading") for p in (50, 95, 99)]


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


async def _log_in(base: str, number: int) -> Poster:
    client = httpx.AsyncClient(base_url=base, timeout=120)
    token = TOKEN.search((await client.get("/login")).text).group(1)
    await client.post("/login", data={"email": f"bench{number}@example.com", "password": "bench passphrase",
                                      "csrf_token": token})
    return Poster(client, TOKEN.search((await client.get(f"/questions/{BANK[0].slug}")).text).group(1))


async def _flat_out(posters: list[Poster], kind: str) -> tuple[dict[int, datetime], datetime]:
    sent: dict[int, datetime] = {}
    errors: list[str] = []
    work = iter(islice(cycle(answers(kind)), FLAT_OUT[kind]))
    first = datetime.now(UTC)

    async def client(poster: Poster) -> None:
        for answer in work:  # shared: each answer is taken by whichever client is free
            await _post(poster, answer, datetime.now(UTC), sent, errors)

    await asyncio.gather(*(client(p) for p in posters[:8]))
    if errors:
        raise RuntimeError(f"posting flat out failed: {errors[:5]}")
    return sent, first


async def _steady(posters: list[Poster], kind: str, rate: float) -> tuple[dict[int, datetime], list[str]]:
    sent: dict[int, datetime] = {}
    errors: list[str] = []
    loop = asyncio.get_running_loop()
    start, wall = loop.time() + 0.1, datetime.now(UTC) + timedelta(seconds=0.1)
    tasks = []
    for n, answer in enumerate(islice(cycle(answers(kind)), int(rate * SECONDS[kind]))):
        await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
        tasks.append(asyncio.create_task(_post(posters[n % len(posters)], answer,
                                               wall + timedelta(seconds=n / rate), sent, errors)))
    await asyncio.gather(*tasks)
    return sent, errors


def _ms(delta: timedelta) -> float:
    return delta.total_seconds() * 1000


def _figures(site: BenchSite, sent: dict[int, datetime], errors: list[str]) -> dict[str, float]:
    rows = wait_graded(site, list(sent))
    graded = [r for r in rows if r.status == SubmissionStatus.graded]
    parts = {"feedback": [_ms(r.finished_at - sent[r.id]) for r in graded],
             "wait": [_ms(r.started_at - r.queued_at) for r in graded],
             "grading": [_ms(r.finished_at - r.started_at) for r in graded]}
    figures = {f"{name} p{p}": percentile(values, p) for name, values in parts.items() for p in (50, 95, 99)}
    return {**figures, "failed": float(len(errors) + len(rows) - len(graded))}


async def _measure(base: str, site: BenchSite) -> dict[str, dict[str, list[float]]]:
    posters = [await _log_in(base, n) for n in range(CANDIDATES)]
    results: dict[str, dict[str, list[float]]] = {}
    for kind in KINDS:
        capacity = []
        for _ in range(RUNS):
            sent, first = await _flat_out(posters, kind)
            capacity.append(graded_per_second(wait_graded(site, list(sent)), since=first))
        figures: dict[str, list[float]] = {"capacity": capacity}
        for level in LEVELS:
            for _ in range(RUNS):
                steady = await _steady(posters, kind, level * statistics.median(capacity))
                for name, value in _figures(site, *steady).items():
                    figures.setdefault(f"{level}:{name}", []).append(value)
        results[kind] = figures
    for poster in posters:
        await poster.client.aclose()
    return results


def run_deployment(*, workers: int) -> dict[str, dict[str, list[float]]]:
    """``workers`` = 0: the default deployment on SQLite; otherwise web-only + workers on PostgreSQL."""
    url = create_postgres_database("rehearse_feedback") if workers else None
    settings = ({"submissions_per_window": "1000000", "sandbox": "bwrap"}
                | ({"grader_concurrency": "0"} if workers else {}))
    try:
        site = make_site(database_url=url, **settings)
        digest = make_hasher(memory_kib=19456, time_cost=2, parallelism=1).hash("bench passphrase")
        with site.session() as db:
            db.add_all(User(email=f"bench{n}@example.com", display_name=f"Bench {n}", password_hash=digest)
                       for n in range(CANDIDATES))
            db.commit()
        port = free_port()
        processes = [site.start("serve", "--port", str(port), log="server.log")]
        processes += [site.start("worker", "--concurrency", "1", log=f"worker{n}.log") for n in range(workers)]
        try:
            wait_healthy(f"http://127.0.0.1:{port}")
            return asyncio.run(_measure(f"http://127.0.0.1:{port}", site))
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
    finally:
        if url:
            drop_postgres_database(url)


def _tables(name: str, results: dict[str, dict[str, list[float]]]) -> list[str]:
    header = " | ".join(c.replace("feedback", "POST → graded").replace("wait", "queue wait") for c in COLUMNS)
    lines = []
    for kind, figures in results.items():
        capacity = statistics.median(figures["capacity"])
        lines += [f"**{name}, {kind}**: capacity {spread(figures['capacity'])} answers/s "
                  f"(flat out, {FLAT_OUT[kind]} answers).", "",
                  f"| load | answers/s | {header} | failed |", "|---|---|" + "---|" * (len(COLUMNS) + 1)]
        for level in LEVELS:
            cells = " | ".join(spread(figures[f"{level}:{c}"]) for c in COLUMNS)
            lines.append(f"| {level:.0%} | {level * capacity:.1f} | {cells} | {spread(figures[f'{level}:failed'])} |")
        if kind in TARGETS:
            p50 = statistics.median(figures["0.5:feedback p50"])
            verdict = "**met**" if p50 < TARGETS[kind] else "**not met**"
            lines += ["", f"Target: {kind} feedback p50 ({name} deployment) under {TARGETS[kind]:,.0f} ms "
                          f"at 50 % load: {p50:,.0f} ms, {verdict}."]
        lines.append("")
    return lines


def report() -> str:
    lines = ["## Time to feedback", "", __doc__.split("\n\n", 1)[1].strip(), "",
             "Milliseconds, min / median / max of 3 runs.", "", *_tables("default", run_deployment(workers=0))]
    if postgres_available():
        lines += _tables("scale-out", run_deployment(workers=2))
    else:
        lines.append("The scale-out deployment was not measured in this run (set REHEARSE_BENCH_DATABASE_URL).")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
