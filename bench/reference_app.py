"""The two references for bench/pages.py, served by one bare Starlette app (no middleware, no
sessions, no ORM) from the same SQLite file as the app, with raw ``sqlite3`` (one read-only
connection per worker thread) and a Jinja2 template compiled at start-up:

- ``GET /bare/questions``, the ceiling of the stack: page 1 of the question list — the same 20
  questions as the app's page 1 (their slugs given with ``--slugs``; without it, the same-page
  query's order), with topic and tags — reading only those 20 rows by primary key. Their ids,
  and the facets the page shows (counts per topic, total, tag list), are read once at start-up.
- ``GET /questions``, the same-page reference: what a list page without a cache does per request —
  the 20 rows through an ORDER BY over every published question, the count per topic, the total
  and the tag list.

Served like ``rehearse serve``: ``python -m bench.reference_app --db PATH --port N`` runs uvicorn
with 1 worker and ``log_level="info"``.
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

PER_PAGE = 20
DATABASE_ENV, SLUGS_ENV = "REFERENCE_DATABASE", "REFERENCE_SLUGS"

PAGE = """
SELECT q.id, q.slug, q.title, q.difficulty, q.kind, t.name
FROM questions q JOIN topics t ON t.id = q.topic_id
WHERE q.status = 'published'
ORDER BY t.position, t.name, CASE q.difficulty WHEN 'easy' THEN 0 WHEN 'medium' THEN 1 WHEN 'hard' THEN 2 END,
    q.title, q.id
LIMIT ? OFFSET ?"""
BY_IDS = """
SELECT q.id, q.slug, q.title, q.difficulty, q.kind, t.name FROM questions q JOIN topics t ON t.id = q.topic_id"""
COUNTS = "SELECT topic_id, count(*) FROM questions WHERE status = 'published' GROUP BY topic_id"
TOPICS = "SELECT id, slug, name FROM topics ORDER BY position, name"
ALL_TAGS = """
SELECT DISTINCT qt.tag FROM question_tags qt JOIN questions q ON q.id = qt.question_id
WHERE q.status = 'published' ORDER BY qt.tag"""
KIND_LABELS = {"text": "written answer", "choice": "multiple choice", "code": "code challenge"}

Row = tuple[int, str, str, str, str, str]


def query_string(page: int = 1, **values: object) -> str:
    values = {**values, "page": page}
    return urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == 1)})


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def _items(db: sqlite3.Connection, rows: list[Row]) -> list[dict[str, Any]]:
    """The rows as the template shows them, each with its tags (one query for all of them, by key)."""
    tags: dict[int, list[str]] = {}
    if rows:
        ids = [r[0] for r in rows]
        for question_id, tag in db.execute(
                f"SELECT question_id, tag FROM question_tags WHERE question_id IN ({_marks(ids)}) ORDER BY tag", ids):
            tags.setdefault(question_id, []).append(tag)
    return [{"slug": slug, "title": title, "difficulty": difficulty, "kind": KIND_LABELS[kind], "topic": topic,
             "tags": tags.get(qid, [])} for qid, slug, title, difficulty, kind, topic in rows]


def _facets(db: sqlite3.Connection) -> dict[str, Any]:
    """What the page shows besides its rows: topics with their counts, the total, every tag."""
    counts = dict(db.execute(COUNTS).fetchall())
    topics = [{"slug": slug, "name": name, "count": counts.get(tid, 0)} for tid, slug, name in db.execute(TOPICS)]
    total = sum(counts.values())
    return {"topics": topics, "total": total, "pages": max(1, math.ceil(total / PER_PAGE)),
            "tags": [t for (t,) in db.execute(ALL_TAGS)]}


def _page_ids(db: sqlite3.Connection, slugs: list[str]) -> list[int]:
    """The ids of page 1, in order: of the given slugs, or of the same-page reference's first page."""
    if not slugs:
        return [row[0] for row in db.execute(PAGE, (PER_PAGE, 0))]
    found = dict(db.execute(f"SELECT slug, id FROM questions WHERE slug IN ({_marks(slugs)})", slugs).fetchall())
    missing = [s for s in slugs if s not in found]
    if missing:
        raise SystemExit(f"no such questions: {', '.join(missing)}")
    return [found[s] for s in slugs]


def create_app(database: str | None = None, slugs: list[str] | None = None) -> Starlette:
    path = Path(database or os.environ[DATABASE_ENV]).resolve()
    if slugs is None:
        slugs = os.environ.get(SLUGS_ENV, "").split()
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(), auto_reload=False)
    template = env.get_template("reference_list.html")
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        return conn

    # Read once, at start-up: the bare page's ids and everything on it but its 20 rows.
    startup = connection()
    bare_ids, bare_facets = _page_ids(startup, slugs), _facets(startup)
    by_ids = f"{BY_IDS} WHERE q.id IN ({_marks(bare_ids)})"

    def bare(request: Request) -> HTMLResponse:
        db = connection()
        found = {row[0]: row for row in db.execute(by_ids, bare_ids)}
        rows = [found[i] for i in bare_ids if i in found]
        return HTMLResponse(template.render(items=_items(db, rows), page=1, query_string=query_string, **bare_facets))

    def same_page(request: Request) -> HTMLResponse:
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        db = connection()
        rows = db.execute(PAGE, (PER_PAGE, (page - 1) * PER_PAGE)).fetchall()
        return HTMLResponse(template.render(items=_items(db, rows), page=page, query_string=query_string,
                                            **_facets(db)))

    def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/bare/questions", bare), Route("/questions", same_page),
                             Route("/healthz", healthz)])


def main() -> None:
    import logging

    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--slugs", default="", help="page 1's question slugs, in order, separated by spaces")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    os.environ[DATABASE_ENV], os.environ[SLUGS_ENV] = args.db, args.slugs
    # proxy_headers off, as `rehearse serve` has it without REHEARSE_TRUSTED_PROXIES.
    uvicorn.run("bench.reference_app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, proxy_headers=False, log_level="info")


if __name__ == "__main__":
    main()
