"""Generated data for the page benchmark: up to 100,000 realistic-looking questions and a candidate's answers.

Bulk inserts straight into the site's database, through SQL that fires the triggers the migrations
created (the FTS index, the catalogue version), so the app sees the rows as it would see imported
questions; the FTS index is checked afterwards. A revision's content (rubric, choices, tests …)
is copied inside SQLite from a bank question of the same kind, so no JSON passes through Python.
Grading runs through the real GradingService so the answers carry real feedback. ``snapshot``
copies the database as it is (``VACUUM INTO``) into a site of its own, one per bank size.
"""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
from contextlib import closing
from typing import Any

from sqlalchemy import create_engine, func, select

from bench.common import BenchSite

QUESTIONS = 10_000
SUBMISSIONS = 300
BATCH = 20_000
EMAIL, PASSWORD = "candidate@example.com", "bench passphrase"

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


def generated(n: int) -> dict[str, str]:
    """Generated question number ``n``: the same whatever batch it is inserted in."""
    rng = random.Random(n)
    kind = rng.choice(KINDS)
    title = _fill(rng.choice(TITLES), rng)
    prompt = " ".join(_fill(t, rng) for t in rng.sample(SENTENCES, rng.randint(3, 5)))
    return {"slug": f"{_slugify(title)}-{n}", "kind": kind, "title": title, "prompt": prompt,
            "difficulty": rng.choice(DIFFICULTIES), "tags": " ".join(rng.sample(TAGS, rng.randint(1, 4)))}


def _copy_statement(table: str, columns: list[str], given: list[str]) -> str:
    """INSERT … SELECT: the ``given`` columns from parameters, every other column copied from a template
    row (so columns with defaults, or added later, get a bank question's values without Python)."""
    rest = [c for c in columns if c not in given]
    return (f"INSERT INTO {table} ({', '.join(given + rest)}) SELECT {', '.join('?' * len(given))}, "
            f"{', '.join(rest)} FROM {table} WHERE id = ?")


def populate(site: BenchSite, count: int = QUESTIONS, *, start: int = 0) -> str:
    """Bulk-insert generated published questions number ``start`` to ``start + count - 1`` (with a
    revision and tags each); returns the slug of the first text question among them."""
    import webapp.models  # noqa: F401  (every table, so foreign keys resolve)
    from webapp.questions.models import Question, QuestionRevision, Topic

    engine = create_engine(site.database_url)
    with engine.connect() as connection:  # one connection throughout: the pragmas below are per connection
        topic_ids = list(connection.scalars(select(Topic.id).order_by(Topic.position)))
        # Per kind, a bank question and its revision: the generated ones copy their other columns.
        templates: dict[str, tuple[int, int | None]] = {str(kind): (qid, rid) for kind, qid, rid in connection.execute(
            select(Question.kind, func.min(Question.id), func.min(Question.current_revision_id))
            .group_by(Question.kind)).all()}
        copy_question = _copy_statement("questions", [c.name for c in Question.__table__.columns], [
            "id", "slug", "status", "topic_id", "difficulty", "kind", "title", "search_text"])
        copy_revision = _copy_statement("question_revisions", [c.name for c in QuestionRevision.__table__.columns],
                                        ["id", "question_id", "number", "title", "prompt", "content_hash"])
        first_q = (connection.scalar(select(func.max(Question.id))) or 0) + 1
        first_r = (connection.scalar(select(func.max(QuestionRevision.id))) or 0) + 1
        connection.commit()
        # A throwaway database that nothing else has open: no WAL, no fsync while it is filled (2-3× faster).
        connection.exec_driver_sql("PRAGMA journal_mode=MEMORY")
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
        slug = ""
        for offset in range(0, count, BATCH):
            questions: list[tuple[Any, ...]] = []
            revisions: list[tuple[Any, ...]] = []
            tags: list[tuple[int, str]] = []
            for n in range(start + offset, start + min(count, offset + BATCH)):
                q = generated(n)
                qid, rid = first_q + n - start, first_r + n - start
                template_q, template_r = templates[q["kind"]]
                slug = slug or (q["slug"] if q["kind"] == "text" else "")
                questions.append((qid, q["slug"], "published", topic_ids[n % len(topic_ids)], q["difficulty"],
                                  q["kind"], q["title"], q["prompt"], template_q))
                digest = hashlib.sha256(f"{q['title']}\n{q['prompt']}".encode()).hexdigest()
                revisions.append((rid, qid, 1, q["title"], q["prompt"], digest, template_r))
                tags.extend((qid, tag) for tag in q["tags"].split())
            # Plain SQL, so the triggers fire: the FTS index and the catalogue version follow.
            connection.exec_driver_sql(copy_question, questions)
            connection.exec_driver_sql(copy_revision, revisions)
            connection.exec_driver_sql("INSERT INTO question_tags (question_id, tag) VALUES (?, ?)", tags)
            connection.exec_driver_sql("UPDATE questions SET current_revision_id = id - ? WHERE id BETWEEN ? AND ?",
                                       (first_q - first_r, questions[0][0], questions[-1][0]))
            connection.commit()
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")  # as the app left it
    engine.dispose()
    return slug


def check_search_index(site: BenchSite) -> None:
    """Fail unless the FTS index matches the questions table (FTS5's own integrity check)."""
    with closing(sqlite3.connect(site.database_url.removeprefix("sqlite:///"), isolation_level=None)) as connection:
        connection.execute("INSERT INTO question_fts(question_fts, rank) VALUES ('integrity-check', 1)")


def snapshot(site: BenchSite, name: str) -> BenchSite:
    """A copy of the site's database as it is now, in a data directory of its own next to the site's."""
    data_dir = site.data_dir.parent / name / "instance"
    data_dir.mkdir(mode=0o700, parents=True)
    path = data_dir / "rehearse.db"
    with closing(sqlite3.connect(site.database_url.removeprefix("sqlite:///"), isolation_level=None)) as connection:
        connection.execute("VACUUM INTO ?", (str(path),))
    url = f"sqlite:///{path}"
    return BenchSite(data_dir, {**site.env, "REHEARSE_DATA_DIR": str(data_dir), "REHEARSE_DATABASE_URL": url}, url)


def published(site: BenchSite) -> int:
    with closing(sqlite3.connect(site.database_url.removeprefix("sqlite:///"))) as connection:
        return int(connection.execute("SELECT count(*) FROM questions WHERE status = 'published'").fetchone()[0])


def add_submissions(site: BenchSite, count: int = SUBMISSIONS) -> int:
    """The candidate answers bank text questions ``count`` times; all graded here. Returns the last id."""
    from webapp.core.db import Database
    from webapp.grading.graders import default_graders
    from webapp.grading.worker import GradingService
    from webapp.identity.models import User
    from webapp.questions.models import Question
    from webapp.submissions.models import Submission

    with site.session() as db:
        user = db.scalar(select(User).where(User.email == EMAIL))
        if user is None:
            raise RuntimeError(f"create {EMAIL} first")
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
