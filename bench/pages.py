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

import asyncio
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import func, insert, select, update

from bench.common import BenchSite, free_port, make_site, percentile, spread, wait_healthy

QUESTIONS = 10_000
SUBMISSIONS = 300
RUNS = 3
WRK_THREADS, WRK_CONNECTIONS, WRK_SECONDS = 2, 32, 10
RATE_SECONDS = 10
RATE_FRACTION = 0.5  # offered rate for the latency runs, as a fraction of the reference's throughput
LOGIN_SECONDS, LOGIN_CONCURRENCY = 6, 4
SERVER_CPU, CLIENT_CPU = "0", "1"
EMAIL, PASSWORD = "candidate@example.com", "bench passphrase"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGET_THROUGHPUT, TARGET_P99 = 0.5, 2.0

# --- realistic-looking questions ---------------------------------------------------------------

SUBJECTS = [
    "dependency injection", "path parameter validation", "query parameter defaults", "response models",
    "background tasks", "middleware ordering", "CORS preflight requests", "OAuth2 bearer tokens",
    "Pydantic field validators", "multipart file uploads", "streaming responses", "WebSocket connections",
    "custom exception handlers", "async database sessions", "lifespan events", "APIRouter prefixes",
    "OpenAPI schema generation", "form data parsing", "signed session cookies", "static file serving",
    "GraphQL resolvers", "JSON serialization of datetimes", "request body models", "HTTP status codes",
    "the TestClient", "rate limiting", "cursor pagination", "caching headers", "settings from the environment",
    "security scopes", "sub-dependencies with yield", "the event loop", "thread pool offloading",
    "response compression", "API versioning", "trusted host checks", "CSRF protection", "password hashing",
]
CONTEXTS = [
    "a multi-tenant SaaS API", "an internal admin tool", "a high-traffic public API", "a mobile app backend",
    "a microservice behind an API gateway", "a data ingestion service", "a payments integration",
    "a chat application", "a reporting dashboard", "a machine-learning inference service",
]
CONDITIONS = [
    "heavy concurrent load", "a reverse proxy", "several uvicorn workers", "async endpoints",
    "the test suite", "a slow database", "a client that retries", "a strict content security policy",
]
TITLES = [
    "How would you use {s} in {c}?", "Explain {s} and when it matters for {c}",
    "What goes wrong with {s} under {k}?", "Compare {s} with {s2}", "Design {s} for {c}",
    "Debug a failing {s} set-up in {c}", "Why does {s} behave differently with {k}?",
    "Trade-offs of {s} in {c}", "Testing {s} in {c}", "{S}: common mistakes with {k}",
]
SENTENCES = [
    "Explain how FastAPI handles {s} and which parts come from Starlette and which from Pydantic.",
    "Describe what happens, step by step, when a request reaches an endpoint that relies on {s}.",
    "Give a short example from {c} and say what you would log or measure.",
    "Mention at least one trade-off and one mistake you have seen in code review.",
    "What changes under {k}, and how would you notice it in production?",
    "How would you test it, and what would the test client need to fake?",
    "Compare it with {s2} and say when you would pick one over the other.",
    "Keep the answer to a few paragraphs; a code sketch is welcome but not required.",
]
TAGS = [
    "pydantic", "validation", "async", "security", "oauth2", "jwt", "testing", "performance", "deployment",
    "docker", "middleware", "cors", "websockets", "sqlalchemy", "dependencies", "openapi", "serialization",
    "uploads", "streaming", "sessions", "cookies", "errors", "routing", "background", "lifespan", "settings",
    "typing", "graphql", "static", "forms", "caching", "pagination", "headers", "status-codes", "json", "http",
    "asgi", "uvicorn", "observability", "versioning",
]
KINDS = ["text"] * 12 + ["choice"] * 5 + ["code"] * 3
DIFFICULTIES = ["easy", "medium", "hard"]
CONTENT_FIELDS = ["reference_answer", "rubric", "calibration", "multiple", "choices", "starter_code", "hidden_tests",
                  "reference_solution", "wrong_solutions", "limits", "allowed_extensions"]
ANSWER = ("FastAPI is an ASGI framework built on Starlette, so async endpoints share an event loop, while "
          "Flask is WSGI. Pydantic models validate request bodies from type hints, bad input gets a 422, "
          "and the same declarations produce OpenAPI docs. Flask has the more mature extension ecosystem.")


def _fill(template: str, rng: random.Random) -> str:
    s, s2 = rng.sample(SUBJECTS, 2)
    return template.format(s=s, s2=s2, S=s[0].upper() + s[1:], c=rng.choice(CONTEXTS), k=rng.choice(CONDITIONS))


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def populate(site: BenchSite, count: int = QUESTIONS) -> str:
    """Bulk-insert ``count`` published questions (with revisions and tags); returns one text question's slug."""
    import webapp.models  # noqa: F401  (every table, so foreign keys resolve)
    from webapp.questions.models import Question, QuestionRevision, QuestionTag, Topic

    rng = random.Random(42)
    with site.session() as db:
        topic_ids = list(db.scalars(select(Topic.id).order_by(Topic.position)))
        content = {}  # per kind, the content of a bank question of that kind (rubric, choices, tests …)
        for revision in db.scalars(select(QuestionRevision).order_by(QuestionRevision.id)):
            content.setdefault(revision.kind.value, {f: getattr(revision, f) for f in CONTENT_FIELDS})
        first_q = (db.scalar(select(func.max(Question.id))) or 0) + 1
        first_r = (db.scalar(select(func.max(QuestionRevision.id))) or 0) + 1
        questions, revisions, tags, links = [], [], [], []
        for n in range(count):
            kind = rng.choice(KINDS)
            title = _fill(rng.choice(TITLES), rng)
            prompt = " ".join(_fill(t, rng) for t in rng.sample(SENTENCES, rng.randint(3, 5)))
            qid, rid = first_q + n, first_r + n
            questions.append({"id": qid, "slug": f"{_slugify(title)}-{n}", "status": "published",
                              "topic_id": topic_ids[n % len(topic_ids)], "difficulty": rng.choice(DIFFICULTIES),
                              "kind": kind, "title": title, "search_text": prompt})
            revisions.append({"id": rid, "question_id": qid, "number": 1, "kind": kind, "title": title,
                              "prompt": prompt, **content[kind],
                              "content_hash": hashlib.sha256(f"{title}\n{prompt}".encode()).hexdigest()})
            tags.extend({"question_id": qid, "tag": tag} for tag in rng.sample(TAGS, rng.randint(1, 4)))
            links.append({"id": qid, "current_revision_id": rid})
        db.execute(insert(Question), questions)  # the FTS triggers index title and search_text
        db.execute(insert(QuestionRevision), revisions)
        db.execute(insert(QuestionTag), tags)
        db.execute(update(Question), links)
        db.commit()
        return next(q["slug"] for q in questions if q["kind"] == "text")


def add_submissions(site: BenchSite, count: int = SUBMISSIONS) -> int:
    """The candidate answers bank text questions ``count`` times; all graded here. Returns the last id."""
    from webapp.accounts.models import User
    from webapp.db import Database
    from webapp.grading.graders import default_graders
    from webapp.grading.worker import GradingService
    from webapp.questions.models import Question
    from webapp.submissions.models import Submission

    with site.session() as db:
        user = db.scalar(select(User).where(User.email == EMAIL))
        # The lowest ids are the default bank's questions, inserted before the generated ones.
        bank = list(db.scalars(select(Question).where(Question.kind == "text").order_by(Question.id).limit(30)))
        rows = [Submission(user_id=user.id, question_id=q.id, revision_id=q.current_revision_id, kind=q.kind,
                           answer_text=ANSWER) for q in (bank[n % len(bank)] for n in range(count))]
        db.add_all(rows)
        db.commit()
        last = rows[-1].id
    database = Database(site.database_url)
    service = GradingService(database, default_graders(), concurrency=1)
    while service.process_one():
        pass
    database.dispose()
    return last


# --- servers and clients -------------------------------------------------------------------------

def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("bench.pages needs wrk, the HTTP load generator: install it with "
                           "`apt-get install -y wrk` (Debian/Ubuntu) and run the benchmark again.")
    if shutil.which("taskset") is None:
        raise RuntimeError("bench.pages needs taskset (util-linux) to pin server and load generator to separate CPUs.")
    return path


def _pinned(cpu: str, *command: str) -> list[str]:
    return ["taskset", "-c", cpu, *command]


def start_ours(site: BenchSite, port: int) -> subprocess.Popen[bytes]:
    log = (site.data_dir / "server.log").open("ab")
    return subprocess.Popen(_pinned(SERVER_CPU, sys.executable, "-m", "webapp.cli", "serve", "--port", str(port),
                                    "--workers", "1"), env=site.env, stdout=log, stderr=subprocess.STDOUT)


def start_reference(site: BenchSite, port: int) -> subprocess.Popen[bytes]:
    log = (site.data_dir / "reference.log").open("ab")
    database = site.database_url.removeprefix("sqlite:///")
    return subprocess.Popen(_pinned(SERVER_CPU, sys.executable, "-m", "bench.reference_app", "--db", database,
                                    "--port", str(port), "--workers", "1"), env=site.env, stdout=log,
                            stderr=subprocess.STDOUT)


def settle(url: str, timeout: float = 120) -> None:
    """Wait until the server answers /healthz again (requests stuck in the server can outlive a wrk run)."""
    wait_healthy(url, timeout=timeout)


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:  # uvicorn waits for stuck requests; don't wait for them
        server.kill()
        server.wait(timeout=30)


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


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, *, cookie: str = "", seconds: int = WRK_SECONDS) -> dict[str, float]:
    command = [require_wrk(), f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(_pinned(CLIENT_CPU, *command, url), capture_output=True, text=True, check=True).stdout
    if "Latency Distribution" not in output:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
            "p50": _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),  # type: ignore[union-attr]
            "p99": _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),  # type: ignore[union-attr]
            "errors": float(errors + (int(bad.group(1)) if bad else 0))}


def _child(*args: str) -> dict[str, float]:
    """Run a client in a child process pinned to the client CPU; it prints one JSON object."""
    done = subprocess.run(_pinned(CLIENT_CPU, sys.executable, "-m", "bench.pages", *args), capture_output=True,
                          text=True, check=True, timeout=300)
    return json.loads(done.stdout)


def open_loop(url: str, rate: float, *, login_first: bool, seconds: int = RATE_SECONDS) -> dict[str, float]:
    return _child("open-loop", url, str(rate), str(seconds), "1" if login_first else "0")


def logins(url: str) -> dict[str, float]:
    return _child("logins", url, str(LOGIN_SECONDS), str(LOGIN_CONCURRENCY))


async def _open_loop(url: str, rate: float, seconds: int, login_first: bool) -> dict[str, float]:
    """Open loop: request i is due at start + i/rate whatever happened before; latency counts from then."""
    base, path = url.split("/", 3)[:3], "/" + url.split("/", 3)[3]
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url="/".join(base), limits=limits, timeout=60) as client:
        if login_first:  # the client keeps the session cookie up to date, as a browser would
            token = TOKEN.search((await client.get("/login")).text).group(1)  # type: ignore[union-attr]
            await client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
        for _ in range(20):  # open some connections before the clock starts
            await client.get(path)
        clock = time.perf_counter  # uvloop's loop.time() only has millisecond resolution
        latencies: list[float] = []
        lags: list[float] = []
        errors = 0

        async def one(due: float) -> None:
            nonlocal errors
            lags.append(clock() - due)
            try:
                response = await client.get(path)
                errors += response.status_code != 200
            except httpx.HTTPError:
                errors += 1
            latencies.append((clock() - due) * 1000)

        start = clock() + 0.05
        tasks = []
        for n in range(int(rate * seconds)):
            due = start + n / rate
            if (delay := due - clock()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
        return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "errors": float(errors),
                "achieved": len(latencies) / (clock() - start), "lag_p99": percentile(lags, 99) * 1000}


def _logins(url: str, seconds: int, concurrency: int) -> dict[str, float]:
    """Closed loop: each client fetches /login (new cookie, new token) then POSTs it; the POST is timed."""
    import threading

    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds

    def client_loop() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:  # one connection; a new cookie jar each time
            while time.monotonic() < deadline:
                client.cookies.clear()
                token = TOKEN.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
                started = time.perf_counter()
                response = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
                latencies.append((time.perf_counter() - started) * 1000)
                errors[0] += response.status_code != 303

    began = time.monotonic()
    threads = [threading.Thread(target=client_loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"rps": len(latencies) / (time.monotonic() - began), "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99), "errors": float(errors[0])}


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


# --- the benchmark -------------------------------------------------------------------------------

def measure() -> dict:  # type: ignore[type-arg]
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
    results: dict = {"setup": setup_seconds, "runs": {}}  # type: ignore[type-arg]
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
            stop(server)
        shutil.rmtree(site.data_dir.parent, ignore_errors=True)  # the database alone is ~70 MB
    results["seconds"] = time.monotonic() - started
    return results


def _ratio(ours: list[float], reference: list[float]) -> float:
    return statistics.median(ours) / statistics.median(reference)


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def format_report(r: dict) -> str:  # type: ignore[type-arg]
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
               for name, label in (("reference@rate", "reference `/questions`"), ("questions@rate", "ours `/questions`"))]
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
        "Where ours' p99 at the fixed rate is far above its p50, the cause is CPython's full (generation 2) garbage "
        "collections: ~165,000 objects are alive after start-up and each full collection took 40–110 ms here. "
        "Calling `gc.freeze()` once after start-up (not done in the app yet) brought that p99 to 23–27 ms in a "
        "separate measurement.",
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
        f"| `/questions` throughput ≥ {TARGET_THROUGHPUT}× reference | {throughput:.2f}× | {_met(throughput >= TARGET_THROUGHPUT)} |",
        f"| `/questions` p99 at the same offered rate ≤ {TARGET_P99:.0f}× reference | {p99:.2f}× | {_met(p99 <= TARGET_P99)} |",
        "",
        f"Resident memory (VmRSS) after the saturation runs: ours {r['rss_pages']['ours']:.0f} MiB, reference "
        f"{r['rss_pages']['reference']:.0f} MiB; at the end (after the rate-limited and login runs): ours "
        f"{r['rss']['ours']:.0f} MiB, reference {r['rss']['reference']:.0f} MiB. "
        f"Whole benchmark: {r['seconds'] / 60:.1f} min.",
        "",
    ])


def report() -> str:
    return format_report(measure())


def main(argv: list[str]) -> None:
    if argv[:1] == ["open-loop"]:
        url, rate, seconds, login_first = argv[1:5]
        try:
            import uvloop
            uvloop.install()
        except ImportError:
            pass
        print(json.dumps(asyncio.run(_open_loop(url, float(rate), int(seconds), login_first == "1"))))
    elif argv[:1] == ["logins"]:
        print(json.dumps(_logins(argv[1], int(argv[2]), int(argv[3]))))
    else:
        print(report())


if __name__ == "__main__":
    main(sys.argv[1:])
