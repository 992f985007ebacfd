"""The `rehearse` command, run as a real subprocess against a fresh data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from webapp.identity.models import Role, User

pytestmark = pytest.mark.processes


def rehearse(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REHEARSE_DATA_DIR": str(data_dir)}
    env.pop("REHEARSE_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "webapp.cli", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=120)


def users(data_dir: Path) -> list[User]:
    engine = create_engine(f"sqlite:///{data_dir / 'rehearse.db'}")
    with Session(engine) as db:
        found = list(db.scalars(select(User).order_by(User.id)))
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "instance"
    first = rehearse(path, "setup")
    assert first.returncode == 0, first.stderr
    assert "password:" in first.stdout and "admin@example.com" in first.stdout
    return path


def test_setup_creates_one_admin_and_prints_the_password_once(data_dir: Path) -> None:
    again = rehearse(data_dir, "setup")
    assert again.returncode == 0, again.stderr
    assert "password" not in again.stdout
    admins = [u for u in users(data_dir) if u.role == Role.admin]
    assert len(admins) == 1 and admins[0].must_change_password


def test_create_user_set_role_and_deactivate(data_dir: Path) -> None:
    created = rehearse(data_dir, "create-user", "--email", "Grace@Example.com", "--role", "interviewer",
                       "--password-stdin", stdin="a long enough passphrase\n")
    assert created.returncode == 0, created.stderr
    grace = next(u for u in users(data_dir) if u.email == "grace@example.com")
    assert grace.role == Role.interviewer

    assert rehearse(data_dir, "set-role", "--email", "grace@example.com", "--role", "admin").returncode == 0
    after = next(u for u in users(data_dir) if u.email == "grace@example.com")
    assert after.role == Role.admin and after.session_version == grace.session_version + 1

    assert rehearse(data_dir, "deactivate", "--email", "grace@example.com").returncode == 0
    assert not next(u for u in users(data_dir) if u.email == "grace@example.com").is_active


def test_cli_errors_are_clear(data_dir: Path) -> None:
    weak = rehearse(data_dir, "create-user", "--email", "x@example.com", "--password-stdin", stdin="password\n")
    assert weak.returncode != 0 and "password" in weak.stderr
    missing = rehearse(data_dir, "set-role", "--email", "ghost@example.com", "--role", "admin")
    assert missing.returncode != 0 and "no user" in missing.stderr


BANK_FILE = '''
questions:
  - slug: ping-challenge
    topic: middleware
    difficulty: easy
    kind: code
    title: Ping
    prompt: "Answer GET /ping with a pong."
    hidden_tests: |
      def test_ping(client):
          r = client.get("/ping")
          assert r.status_code == 200 and r.json() == {"pong": True}, "GET /ping should answer pong"
    reference_solution: |
      from fastapi import FastAPI

      app = FastAPI()


      @app.get("/ping")
      def ping():
          return {"pong": True}
    correct_solutions:
      - label: async
        code: |
          from fastapi import FastAPI

          app = FastAPI()


          @app.get("/ping")
          async def ping() -> dict:
              return {"pong": True}
    wrong_solutions:
      - label: wrong path
        code: |
          from fastapi import FastAPI

          app = FastAPI()


          @app.get("/pong")
          def ping():
              return {"pong": True}
'''


def test_questions_check_and_mutants_work_on_a_bank_file_without_a_database(tmp_path: Path) -> None:
    bank = tmp_path / "bank.yaml"
    bank.write_text(BANK_FILE)
    checked = rehearse(tmp_path / "nowhere", "questions", "check", str(bank))
    assert checked.returncode == 0, checked.stderr
    assert "ping-challenge: every known solution scores as labelled" in checked.stdout
    mutants = rehearse(tmp_path / "nowhere", "questions", "mutants", "--bank", str(bank), "--verbose")
    # GET /ping answers 200 anyway: dropping or changing nothing else survives, so all are killed.
    assert "ping-challenge: " in mutants.stdout and " killed" in mutants.stdout, mutants.stderr
    assert not (tmp_path / "nowhere").exists()  # no database was made
    bank.write_text(BANK_FILE.replace("@app.get(\"/pong\")", "@app.get(\"/ping\")"))
    caught = rehearse(tmp_path / "nowhere", "questions", "check", str(bank))
    assert caught.returncode == 1 and "wrong path” passes every hidden test" in caught.stdout
