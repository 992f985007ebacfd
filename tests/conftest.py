"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when
REHEARSE_TEST_DATABASE_URL is set), an app per test, and HTTP helpers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

import webapp.models  # noqa: F401
from tests.helpers import csrf_token, login
from webapp.core.config import Settings
from webapp.core.db import Base, Database, session_scope
from webapp.core.migrate import upgrade_to_head
from webapp.identity.models import Role, User
from webapp.identity.passwords import make_hasher
from webapp.main import create_app
from webapp.questions.bank import default_bank_dir, read_path
from webapp.questions.importer import apply_import

PASSWORD = "correct horse battery staple"


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
    )


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    yield application
    _empty_all_tables(application.state.db)
    application.state.db.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_client(app):  # type: ignore[no-untyped-def]
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
def make_user(app):  # type: ignore[no-untyped-def]
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
def candidate_client(client, make_user):  # type: ignore[no-untyped-def]
    user = make_user(Role.candidate)
    login(client, user.email, PASSWORD)
    return client


@pytest.fixture
def admin_client(client, make_user):  # type: ignore[no-untyped-def]
    admin = make_user(Role.admin, email="admin@example.com")
    login(client, admin.email, PASSWORD)
    return client


@pytest.fixture
def bank(app):  # type: ignore[no-untyped-def]
    """The shipped bank, imported into this test's database."""
    parsed = read_path(default_bank_dir())
    with session_scope(app.state.db.write_session) as db:
        plan = apply_import(db, bank=parsed, actor=None, source="test")
    assert plan.ok, plan.errors
    return parsed


@pytest.fixture
def drain(app):  # type: ignore[no-untyped-def]
    """Grade everything queued, in this thread (the test app runs no grader threads)."""

    def run() -> int:
        done = 0
        while app.state.grader.process_one():
            done += 1
        return done

    return run


@pytest.fixture
def answer(candidate_client):  # type: ignore[no-untyped-def]
    def post(slug: str, *, headers: dict[str, str] | None = None, files=None, **fields):  # type: ignore[no-untyped-def]
        data = {"csrf_token": csrf_token(candidate_client, f"/questions/{slug}"), **fields}
        return candidate_client.post(f"/questions/{slug}/submissions", data=data, files=files, headers=headers,
                                     follow_redirects=False)

    return post
