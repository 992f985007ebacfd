"""Where a request's time goes: the fixed cost of a page, measured and profiled in-process.

Run: ``.venv/bin/python -m bench.request_profile`` (``make bench`` runs every benchmark).
``BENCH_QUICK=1`` for a smoke run; ``BENCH_PROFILE_REQUESTS`` / ``BENCH_PROFILE_ROUNDS`` to change the counts.

1. A throwaway site (SQLite, the default bank, no generated questions), one candidate with a
   few graded answers, signed in through the real log-in form.
2. The real ASGI app (``create_app``, its lifespan run) called directly with ASGI messages, one
   request at a time: no HTTP parsing and no client library in the figures, which are the app's
   own CPU per request (``time.process_time``: every thread of the process) and its wall time.
3. The same for a bare Starlette page in this process: 20 rows from the same SQLite file with raw
   ``sqlite3`` and a Jinja2 template compiled at start-up, no middleware (the ceiling of the stack).
4. A cProfile of the same requests, with the calls FastAPI hands to worker threads run inline in
   the event loop's thread instead (``anyio.to_thread.run_sync`` replaced for that pass): one
   thread, so cumulative times are whole, and no GIL hand-offs between threads show up as time.
   The thread hops themselves (~50 µs each) are in the figures of step 2, not in the profile.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from jinja2 import Environment
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bench.common import BenchSite, make_site
from bench.page_data import EMAIL, PASSWORD, add_submissions
from bench.profile_report import ANSWERS, PROFILED, REQUESTS, ROUNDS, WARMUP, format_report

ASGIApp = Callable[..., Any]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ORIGIN = "http://127.0.0.1:8000"

BARE_TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Questions</title>
<link rel="stylesheet" href="/static/css/app.css"></head><body><main><table>
{% for row in rows %}<tr><td><a href="/questions/{{ row.slug }}">{{ row.title }}</a></td>
<td>{{ row.difficulty }}</td><td>{{ row.kind }}</td></tr>{% endfor %}</table></main></body></html>"""


def bare_app(database: str) -> Starlette:
    """20 rows from SQLite through a precompiled template: what any page of this stack costs at least."""
    template = Environment(autoescape=True, auto_reload=False).from_string(BARE_TEMPLATE)
    local = threading.local()

    def page(request: Request) -> HTMLResponse:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)
        rows = [{"slug": s, "title": t, "difficulty": d, "kind": k} for s, t, d, k in conn.execute(
            "SELECT slug, title, difficulty, kind FROM questions WHERE status = 'published' ORDER BY id LIMIT 20")]
        return HTMLResponse(template.render(rows=rows))

    return Starlette(routes=[Route("/bare", page)])


# --- an ASGI client with nothing in between ------------------------------------------------------

async def call(app: ASGIApp, method: str, target: str, *, cookie: str = "",
               form: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request; the response's headers joined by name (several Set-Cookie: one per line)."""
    path, _, query = target.partition("?")
    body = urlencode(form).encode() if form is not None else b""
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"text/html")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if form is not None:
        headers += [(b"content-type", b"application/x-www-form-urlencoded"), (b"origin", ORIGIN.encode()),
                    (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}
    sent = False
    status, response_headers, chunks = 0, {}, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # no disconnect: the client waits for the whole response
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message.get("headers", []):
                key = name.decode().lower()
                joined = response_headers.get(key)
                response_headers[key] = value.decode() if joined is None else f"{joined}\n{value.decode()}"
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, response_headers, b"".join(chunks)


def session_cookie(headers: dict[str, str]) -> str:
    found = [line.split(";", 1)[0] for line in headers.get("set-cookie", "").splitlines()
             if line.startswith("rehearse_session=")]
    if not found:
        raise RuntimeError("no session cookie")
    return found[-1]


async def sign_in(app: ASGIApp) -> str:
    status, headers, body = await call(app, "GET", "/login")
    match = TOKEN.search(body.decode())
    if status != 200 or not match:
        raise RuntimeError(f"no log-in form ({status})")
    status, headers, _ = await call(app, "POST", "/login", cookie=session_cookie(headers),
                                    form={"email": EMAIL, "password": PASSWORD, "csrf_token": match.group(1)})
    if status != 303:
        raise RuntimeError(f"log-in answered {status}")
    return session_cookie(headers)


async def drive(app: ASGIApp, target: str, count: int, cookie: str) -> None:
    for _ in range(count):
        status, _, _ = await call(app, "GET", target, cookie=cookie)
        if status != 200:
            raise RuntimeError(f"{target} answered {status}")


async def timed(app: ASGIApp, target: str, cookie: str) -> tuple[float, float]:
    """µs of CPU (all threads) and of wall time per request, over REQUESTS requests."""
    cpu, wall = time.process_time(), time.perf_counter()
    await drive(app, target, REQUESTS, cookie)
    return (time.process_time() - cpu) / REQUESTS * 1e6, (time.perf_counter() - wall) / REQUESTS * 1e6


async def _inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
    return func(*args)


# --- the benchmark -------------------------------------------------------------------------------

def build_site() -> tuple[BenchSite, str, int]:
    """The site, a published text question's slug and the candidate's last graded answer."""
    site = make_site(grader_concurrency="0", mail_sweep_seconds="0")
    site.cli("create-user", "--email", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    submission_id = add_submissions(site, count=ANSWERS)
    import webapp.models  # noqa: F401  (every table, so foreign keys resolve)
    from webapp.questions.kinds import QuestionStatus
    from webapp.questions.models import Question
    with site.session() as db:
        slug = db.scalar(select(Question.slug).where(Question.kind == "text", Question.status ==
                                                     QuestionStatus.published).order_by(Question.id))
        db.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    if slug is None:
        raise RuntimeError("the default bank has no published text question")
    return site, slug, submission_id


def new_app(site: BenchSite) -> Any:
    """The site's app, its settings read from the site's environment (this process's is left as it was)."""
    from webapp.core.config import Settings
    from webapp.main import create_app
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in site.env.items() if k.startswith("REHEARSE_")})
    try:
        settings = Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return create_app(settings)


def measure() -> dict[str, Any]:
    started, load = time.monotonic(), os.getloadavg()[0]
    site, slug, submission_id = build_site()
    pages = {"question": f"/questions/{slug}", "submission": f"/submissions/{submission_id}",
             "questions": "/questions"}
    bare = bare_app(site.database_url.removeprefix("sqlite:///"))
    results: dict[str, Any] = {"cpu": {}, "wall": {}, "profiles": {}}
    try:
        async def timing() -> str:
            app = new_app(site)
            async with app.router.lifespan_context(app):
                cookie = await sign_in(app)
                targets: dict[str, tuple[ASGIApp, str, str]] = {
                    "bare": (bare, "/bare", ""), **{name: (app, target, cookie) for name, target in pages.items()}}
                for target_app, target, sent in targets.values():  # imports, compiled templates and SQL
                    await drive(target_app, target, WARMUP, sent)
                for _ in range(ROUNDS):  # interleaved, so drift in background load hits every page alike
                    for name, (target_app, target, sent) in targets.items():
                        cpu, wall = await timed(target_app, target, sent)
                        results["cpu"].setdefault(name, []).append(cpu)
                        results["wall"].setdefault(name, []).append(wall)
                return cookie

        cookie = asyncio.run(timing())

        async def profiled(target: str) -> pstats.Stats:
            app = new_app(site)
            async with app.router.lifespan_context(app):
                await drive(app, target, WARMUP, cookie)
                threaded, anyio.to_thread.run_sync = anyio.to_thread.run_sync, _inline  # type: ignore[assignment]
                try:
                    profile = cProfile.Profile()
                    profile.enable()
                    await drive(app, target, PROFILED, cookie)
                    profile.disable()
                finally:
                    anyio.to_thread.run_sync = threaded
            return pstats.Stats(profile)

        for name in ("question", "submission", "questions"):
            results["profiles"][name] = asyncio.run(profiled(pages[name]))
    finally:
        shutil.rmtree(site.data_dir.parent, ignore_errors=True)
    results["seconds"], results["load"] = time.monotonic() - started, load
    return results


def run() -> str:
    return format_report(measure())


report = run  # the name bench/run.py calls


if __name__ == "__main__":
    print(run())
