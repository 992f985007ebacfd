"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when
REHEARSE_TEST_DATABASE_URL is set), an app per test, and HTTP helpers."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

import webapp.models  # noqa: F401
from tests.helpers import login, post_form
from webapp.core.config import Settings
from webapp.core.db import Base, Database, session_scope
from webapp.core.migrate import upgrade_to_head
from webapp.identity.models import Role, User
from webapp.identity.passwords import make_hasher
from webapp.main import create_app
from webapp.questions.bank import ParsedBank, default_bank_dir, parse_document, read_path
from webapp.questions.curation import get_question
from webapp.questions.importer import apply_import
from webapp.review.models import Review, ReviewState
from webapp.submissions.models import Submission

PASSWORD = "correct horse battery staple"


def pytest_configure(config: pytest.Config) -> None:
    # pyproject.toml declares e2e and postgres; these two let `make test-fast` leave the slow kinds out.
    config.addinivalue_line("markers", "sandbox: runs candidate code in the real sandbox (bubblewrap or process mode)")
    config.addinivalue_line("markers", "processes: starts `rehearse` (or other) OS processes of its own")
    config.addinivalue_line("markers", "faults: breaks the database, the disk or a process under load (tests/faults)")
    config.addinivalue_line("markers", "no_database: reads the shipped bank (and runs the sandbox) without a "
                                       "database, so CI runs it once, not once per database")


def _create_postgres_database(base_url: str) -> tuple[str, str]:
    url = make_url(base_url)
    name = f"rehearse_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(base_url: str, name: str) -> None:
    admin = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated, empty database for the whole run."""
    base = os.environ.get("REHEARSE_TEST_DATABASE_URL")
    if base:
        url, name = _create_postgres_database(base)
        upgrade_to_head(url)
        yield url
        _drop_postgres_database(base, name)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade_to_head(url)
        yield url


def _empty_all_tables(database: Database) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with database.engine.begin() as connection:
        if database.is_sqlite:
            for table in tables:
                connection.execute(table.delete())
        else:
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test", data_dir=tmp_path / "data", database_url=database_url,
        secret_key="test-secret-key-not-for-production", public_url="http://testserver",
        grader_concurrency=0,  # tests grade explicitly (see tests/grading) or start a grader themselves
        mail_sweep_seconds=0,  # likewise the outbox's retries (tests/mail)
    )


@pytest.fixture
def app(settings: Settings):
    application = create_app(settings)
    yield application
    _empty_all_tables(application.state.db)
    application.state.db.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_client(app):
    """Extra, independent browsers against the same app."""
    clients: list[TestClient] = []

    def factory() -> TestClient:
        test_client = TestClient(app)
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield factory
    for test_client in clients:
        test_client.__exit__(None, None, None)


@pytest.fixture
def make_user(app):
    hasher = make_hasher(memory_kib=19456, time_cost=2, parallelism=1)
    counter = iter(range(1, 10_000))

    def factory(role: Role = Role.candidate, email: str | None = None, password: str = PASSWORD) -> User:
        email = email or f"user{next(counter)}@example.com"
        with session_scope(app.state.db.write_session) as db:
            user = User(email=email, display_name=email.split("@")[0], password_hash=hasher.hash(password), role=role)
            db.add(user)
            db.flush()
        return user

    return factory


@pytest.fixture
def candidate_client(client, make_user):
    user = make_user(Role.candidate)
    login(client, user.email, PASSWORD)
    return client


@pytest.fixture
def admin_client(client, make_user):
    admin = make_user(Role.admin, email="admin@example.com")
    login(client, admin.email, PASSWORD)
    return client


# A small bank for most tests: every topic, and the questions of three topics, which between them
# have text, single- and multiple-answer choice and code questions (10 questions instead of over a hundred).
SMALL_BANK_FILES = ("topics.yaml", "synonyms.yaml", "01-fastapi-vs-flask.yaml", "02-pydantic.yaml",
                    "06-error-handling.yaml")


def _import_bank(app, parsed: ParsedBank) -> ParsedBank:
    with session_scope(app.state.db.write_session) as db:
        plan = apply_import(db, bank=parsed, actor=None, source="test")
    assert plan.ok, plan.errors
    return parsed


@pytest.fixture
def bank(app) -> ParsedBank:
    """A few of the shipped bank's questions (SMALL_BANK_FILES), imported into this test's database."""
    parsed = ParsedBank()
    for name in SMALL_BANK_FILES:
        path = default_bank_dir() / name
        parse_document(path.read_text(encoding="utf-8"), filename=name, into=parsed)
    return _import_bank(app, parsed)


@pytest.fixture
def shipped_bank(app) -> ParsedBank:
    """The whole shipped bank, for tests about the bank itself (counts, every topic's questions)."""
    return _import_bank(app, read_path(default_bank_dir()))


@pytest.fixture
def make_submission(app, bank):
    """Store an answer by ``user`` to the shipped bank's first question of ``kind``, as if it had been
    submitted (any other Submission column, such as ``status`` or ``score``, as a keyword); with
    ``review``, also a review of it in that state (``ReviewState.requested``: it waits in the queue)."""

    def factory(user: User, *, kind: str = "text", review: ReviewState | None = None, **columns: Any) -> Submission:
        slug = next(q.slug for q in bank.questions if q.kind == kind)
        with session_scope(app.state.db.write_session) as db:
            question = get_question(db, slug=slug)
            assert question is not None, slug
            row = Submission(user_id=user.id, question_id=question.id, revision_id=question.current_revision_id,
                             kind=question.kind, **columns)
            db.add(row)
            db.flush()
            if review is not None:
                db.add(Review(submission_id=row.id, state=review))
        return row

    return factory


@pytest.fixture
def drain(app):
    """Grade everything queued, in this thread (the test app runs no grader threads)."""

    def run() -> int:
        done = 0
        while app.state.grader.process_one():
            done += 1
        return done

    return run


@pytest.fixture
def answer(candidate_client):
    def post(slug: str, *, headers: dict[str, str] | None = None, files=None, **fields):
        return post_form(candidate_client, f"/questions/{slug}/submissions", fields, token_page=f"/questions/{slug}",
                         files=files, headers=headers)

    return post


class _Inbox:
    """What a real SMTP server on loopback received (aiosmtpd), as parsed messages."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, int]]:
    """A real SMTP server on a free loopback port, and what it received."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def mailing_app(settings, inbox):
    """The app sending its email through ``inbox``'s server."""
    _, port = inbox
    application = create_app(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port,
                                                         "smtp_starttls": False, "mail_from": "Rehearse <r@test>"}))
    yield application
    application.state.db.dispose()
