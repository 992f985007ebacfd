"""Page throughput and latency of the candidate pages, against a bare Starlette reference.

Run: ``.venv/bin/python -m bench.pages`` (``make bench`` runs every benchmark). Needs ``wrk``
(Debian: ``apt-get install -y wrk``); nothing is installed for you.

1. A throwaway site (SQLite) with 10,000 generated published questions over the 22 topics,
   one candidate and a few hundred graded submissions.
2. The reference: ``bench/reference_app.py``, a bare Starlette app rendering a comparable
   question list from the same database file with raw ``sqlite3`` and a preloaded Jinja2
   template; served by uvicorn (1 worker, same options as ``rehearse serve``).
3. Saturation: wrk (2 threads, 32 connections) pinned to CPU 1, the server pinned to CPU 0.
4. Latency at a fixed offered rate: an open-loop generator (asyncio + httpx2, in a child
   process on CPU 1): a request every 1/rate seconds whatever the responses, latency from
   the scheduled send time, so coordinated omission is avoided. (Debian has no wrk2 or oha.)
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx2 as httpx

from bench.common import BenchSite, free_port, make_site, rss_mib, spread, stop_server, wait_healthy
from bench.load import (
    CLIENT_CPU,
    LOGIN_CONCURRENCY,
    RATE_SECONDS,
    SERVER_CPU,
    TOKEN,
    WRK_CONNECTIONS,
    WRK_SECONDS,
    WRK_THREADS,
    logins,
    open_loop,
    pinned,
    require_wrk,
    wrk,
)
from bench.page_data import EMAIL, PASSWORD, QUESTIONS, SUBMISSIONS, add_submissions, populate

RUNS = 3
RATE_FRACTION = 0.5  # offered rate for the latency runs, as a fraction of the reference's throughput
TARGET_THROUGHPUT, TARGET_P99 = 0.5, 2.0


def start_ours(site: BenchSite, port: int) -> subprocess.Popen[bytes]:
    log = (site.data_dir / "server.log").open("ab")
    return subprocess.Popen(pinned(SERVER_CPU, sys.executable, "-m", "webapp.cli", "serve", "--port", str(port),
                                    "--workers", "1"), env=site.env, stdout=log, stderr=subprocess.STDOUT)


def start_reference(site: BenchSite, port: int) -> subprocess.Popen[bytes]:
    log = (site.data_dir / "reference.log").open("ab")
    database = site.database_url.removeprefix("sqlite:///")
    return subprocess.Popen(pinned(SERVER_CPU, sys.executable, "-m", "bench.reference_app", "--db", database,
                                    "--port", str(port), "--workers", "1"), env=site.env, stdout=log,
                            stderr=subprocess.STDOUT)


def settle(url: str, timeout: float = 120) -> None:
    """Wait until the server answers /healthz again (requests stuck in the server can outlive a wrk run)."""
    wait_healthy(url, timeout=timeout)


def login(url: str) -> str:
    """A fresh session cookie for the candidate (fresh, so it needs no refresh during a run)."""
    settle(url)
    with httpx.Client(base_url=url, timeout=120) as client:
        token = TOKEN.search(client.get("/login").text).group(1)
        response = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
        if response.status_code != 303:
            raise RuntimeError(f"login failed: {response.status_code}")
        return f"rehearse_session={client.cookies['rehearse_session']}"


def check_page(url: str, cookie: str = "") -> int:
    """Fail loudly unless the page answers 200 (wrk counts a redirect to /login as a success)."""
    response = httpx.get(url, headers={"Cookie": cookie} if cookie else {}, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return len(response.content)


# --- the benchmark -------------------------------------------------------------------------------

def measure() -> dict[str, Any]:
    require_wrk()
    started = time.monotonic()
    site = make_site(grader_concurrency="0")
    slug = populate(site)
    site.cli("create-user", "--email", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    submission_id = add_submissions(site)
    with site.session() as db:  # start both servers from a checkpointed database with an empty WAL
        db.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    setup_seconds = time.monotonic() - started
    ours_url, ref_url = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    ours = start_ours(site, int(ours_url.rsplit(":", 1)[1]))
    reference = start_reference(site, int(ref_url.rsplit(":", 1)[1]))
    results: dict[str, Any] = {"setup": setup_seconds, "runs": {}}
    runs = results["runs"]

    def record(name: str, values: dict[str, float]) -> None:
        for key, value in values.items():
            runs.setdefault(name, {}).setdefault(key, []).append(value)

    try:
        wait_healthy(ours_url)
        wait_healthy(ref_url)
        pages = {"reference": (f"{ref_url}/questions", False), "questions": (f"{ours_url}/questions", True),
                 "question": (f"{ours_url}/questions/{slug}", True),
                 "submission": (f"{ours_url}/submissions/{submission_id}", True)}
        cookie = login(ours_url)
        results["bytes"] = {name: check_page(url, cookie if auth else "") for name, (url, auth) in pages.items()}
        for url, auth in pages.values():  # warm-up: imports, template compilation, caches
            wrk(url, cookie=cookie if auth else "", seconds=2)
            settle(ours_url if auth else ref_url)
        for _ in range(RUNS):  # interleaved, so drift in background load hits both alike
            for name, (url, auth) in pages.items():
                record(name, wrk(url, cookie=login(ours_url) if auth else ""))
                settle(ours_url if auth else ref_url)
        results["rss_pages"] = {"ours": rss_mib(ours.pid), "reference": rss_mib(reference.pid)}
        rate = round(RATE_FRACTION * statistics.median(runs["reference"]["rps"]))
        results["rate"] = rate
        for _ in range(RUNS):
            record("reference@rate", open_loop(pages["reference"][0], rate, login_first=False))
            record("questions@rate", open_loop(pages["questions"][0], rate, login_first=True))
        for _ in range(RUNS):
            record("login", logins(ours_url))
        results["rss"] = {"ours": rss_mib(ours.pid), "reference": rss_mib(reference.pid)}
    finally:
        for server in (ours, reference):
            stop_server(server)
        shutil.rmtree(site.data_dir.parent, ignore_errors=True)  # the database alone is ~70 MB
    results["seconds"] = time.monotonic() - started
    return results


def _ratio(ours: list[float], reference: list[float]) -> float:
    return statistics.median(ours) / statistics.median(reference)


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def format_report(r: dict[str, Any]) -> str:
    runs, rate = r["runs"], r["rate"]
    throughput = _ratio(runs["questions"]["rps"], runs["reference"]["rps"])
    p99 = _ratio(runs["questions@rate"]["p99"], runs["reference@rate"]["p99"])
    labels = {"reference": "reference: bare Starlette + sqlite3, `GET /questions`",
              "questions": "ours: `GET /questions` (candidate, page 1)",
              "question": "ours: `GET /questions/{slug}`", "submission": "ours: `GET /submissions/{id}` (own, graded)"}
    saturation = [f"| {labels[name]} | {spread(runs[name]['rps'])} | {spread(runs[name]['p50'])} | "
                  f"{spread(runs[name]['p99'])} | {spread(runs[name]['errors'])} | {r['bytes'][name] / 1024:.1f} |"
                  for name in labels]
    at_rate = [f"| {label} | {spread(runs[name]['p50'])} | {spread(runs[name]['p99'])} | "
               f"{spread(runs[name]['achieved'])} | {spread(runs[name]['lag_p99'])} | {spread(runs[name]['errors'])} |"
               for name, label in (("reference@rate", "reference `/questions`"),
                                   ("questions@rate", "ours `/questions`"))]
    login_row = runs["login"]
    return "\n".join([
        "## Pages: throughput and latency against a bare Starlette reference",
        "",
        f"One site on SQLite with {QUESTIONS:,} generated published questions over the 22 topics (plus the default "
        f"bank), one candidate with {SUBMISSIONS} graded answers; set-up took {r['setup']:.0f} s. "
        "The reference (`bench/reference_app.py`) renders a comparable question list — the same 20 questions with "
        "topic and tags, the count per topic, the total and the tag list, from the same database file — with raw "
        "`sqlite3` (one read-only connection per thread) and a preloaded Jinja2 template, no middleware: the "
        "practical ceiling for this stack. Both are served by uvicorn with 1 worker and the same options as "
        f"`rehearse serve`, pinned with `taskset` to CPU {SERVER_CPU}; the load generators run on CPU {CLIENT_CPU}. "
        f"Saturation: `wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s` (Debian's wrk; the benchmark stops "
        "with an install hint, `apt-get install -y wrk`, if it is missing), a fresh session cookie per run. "
        f"Latency at a fixed offered rate ({RATE_FRACTION:.0%} of the reference's median throughput = {rate} req/s, "
        f"{RATE_SECONDS} s): an open-loop asyncio + httpx2 generator (Debian has neither wrk2 nor oha) that sends "
        "request *i* at start + *i*/rate whatever the earlier responses, and measures from that scheduled time, so "
        f"coordinated omission is avoided. {RUNS} runs of everything, interleaved; figures are min / median / max. "
        "Other work was running on this machine, so expect noise.",
        "",
        "The app calls `gc.freeze()` once after start-up (webapp/main.py), in effect in these figures: ~165,000 "
        "long-lived objects (routes, templates, ORM mappers) are alive then, and full (generation 2) collections "
        "walking them took 40–110 ms each, which showed as p99 spikes at the fixed rate.",
        "",
        "| saturation (wrk) | requests/s | p50 ms | p99 ms | errors / non-2xx | page KiB |",
        "|---|---|---|---|---|---|",
        *saturation,
        f"| ours: `POST /login` (GET /login for a token first; {LOGIN_CONCURRENCY} clients, closed loop, "
        f"argon2id dominates by design) | {spread(login_row['rps'])} | {spread(login_row['p50'])} | "
        f"{spread(login_row['p99'])} | {spread(login_row['errors'])} | – |",
        "",
        f"| at {rate} req/s offered | p50 ms | p99 ms | achieved req/s | generator send lag p99 ms | errors |",
        "|---|---|---|---|---|---|",
        *at_rate,
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| `/questions` throughput ≥ {TARGET_THROUGHPUT}× reference | {throughput:.2f}× "
        f"| {_met(throughput >= TARGET_THROUGHPUT)} |",
        f"| `/questions` p99 at the same offered rate ≤ {TARGET_P99:.0f}× reference | {p99:.2f}× "
        f"| {_met(p99 <= TARGET_P99)} |",
        "",
        f"Resident memory (VmRSS) after the saturation runs: ours {r['rss_pages']['ours']:.0f} MiB, reference "
        f"{r['rss_pages']['reference']:.0f} MiB; at the end (after the rate-limited and login runs): ours "
        f"{r['rss']['ours']:.0f} MiB, reference {r['rss']['reference']:.0f} MiB. "
        f"Whole benchmark: {r['seconds'] / 60:.1f} min.",
        "",
    ])


def report() -> str:
    return format_report(measure())


if __name__ == "__main__":
    print(report())
