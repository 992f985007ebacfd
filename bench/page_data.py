"""Generated data for the page benchmark: 10,000 realistic-looking questions and a candidate's answers.

Bulk inserts straight into the site's database (the app's own tables, so its FTS triggers and
indexes see the rows as they would see imported questions); grading runs through the real
GradingService so the answers carry real feedback.
"""

from __future__ import annotations

import hashlib
import random
import re

from sqlalchemy import func, insert, select, update

from bench.common import BenchSite

QUESTIONS = 10_000
SUBMISSIONS = 300
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
    from webapp.core.db import Database
    from webapp.grading.graders import default_graders
    from webapp.grading.worker import GradingService
    from webapp.identity.models import User
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
