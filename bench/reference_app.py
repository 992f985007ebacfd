"""The reference stack for bench/pages.py: the practical ceiling for a question-list page.

A bare Starlette app (no middleware, no sessions, no ORM) that renders a page comparable to
``/questions`` from the same SQLite file: 20 questions in the same order with their topic and
tags, the count per topic, the total and the tag list. Raw ``sqlite3`` (one read-only
connection per worker thread) and a Jinja2 environment whose template is compiled at start-up.

Served like ``rehearse serve``: ``python -m bench.reference_app --db PATH --port N`` runs
uvicorn with 1 worker, ``proxy_headers=True`` and ``log_level="info"``.
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import threading
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

PER_PAGE = 20
DATABASE_ENV = "REFERENCE_DATABASE"

PAGE = """
SELECT q.id, q.slug, q.title, q.difficulty, q.kind, t.name
FROM questions q JOIN topics t ON t.id = q.topic_id
WHERE q.status = 'published'
ORDER BY t.position, CASE q.difficulty WHEN 'easy' THEN 0 WHEN 'medium' THEN 1 WHEN 'hard' THEN 2 END, q.title
LIMIT ? OFFSET ?"""
COUNTS = "SELECT topic_id, count(*) FROM questions WHERE status = 'published' GROUP BY topic_id"
TOPICS = "SELECT id, slug, name FROM topics ORDER BY position, name"
ALL_TAGS = """
SELECT DISTINCT qt.tag FROM question_tags qt JOIN questions q ON q.id = qt.question_id
WHERE q.status = 'published' ORDER BY qt.tag"""
KIND_LABELS = {"text": "written answer", "choice": "multiple choice", "code": "code challenge"}


def query_string(page: int = 1, **values: object) -> str:
    values = {**values, "page": page}
    return urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == 1)})


def create_app(database: str | None = None) -> Starlette:
    path = Path(database or os.environ[DATABASE_ENV]).resolve()
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(), auto_reload=False)
    template = env.get_template("reference_list.html")
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        return conn

    def questions(request: Request) -> HTMLResponse:
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        db = connection()
        rows = db.execute(PAGE, (PER_PAGE, (page - 1) * PER_PAGE)).fetchall()
        tags: dict[int, list[str]] = {}
        if rows:
            marks = ",".join("?" * len(rows))
            for question_id, tag in db.execute(
                    f"SELECT question_id, tag FROM question_tags WHERE question_id IN ({marks}) ORDER BY tag",
                    [r[0] for r in rows]):
                tags.setdefault(question_id, []).append(tag)
        counts = dict(db.execute(COUNTS).fetchall())
        topics = [{"slug": slug, "name": name, "count": counts.get(tid, 0)} for tid, slug, name in db.execute(TOPICS)]
        total = sum(counts.values())
        items = [{"slug": slug, "title": title, "difficulty": difficulty, "kind": KIND_LABELS[kind], "topic": topic,
                  "tags": tags.get(qid, [])} for qid, slug, title, difficulty, kind, topic in rows]
        html = template.render(items=items, topics=topics, total=total, page=page,
                               pages=max(1, math.ceil(total / PER_PAGE)),
                               tags=[t for (t,) in db.execute(ALL_TAGS)], query_string=query_string)
        return HTMLResponse(html)

    def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/questions", questions), Route("/healthz", healthz)])


def main() -> None:
    import logging

    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    os.environ[DATABASE_ENV] = args.db
    uvicorn.run("bench.reference_app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, proxy_headers=True, log_level="info")


if __name__ == "__main__":
    main()
