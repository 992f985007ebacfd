"""Real `rehearse` processes for fault tests: a data dir, a database, and logs to read.
(Wait for them with tests.helpers.wait_for.)"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from webapp.identity.models import User
from webapp.questions.models import Question
from webapp.submissions.models import Submission, SubmissionStatus

GRADED_LINE = re.compile(r"graded submission (\d+):")


@dataclass
class Site:
    data_dir: Path
    database_url: str
    env: dict[str, str]
    processes: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "webapp.cli", *args], env=self.env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = self.data_dir / f"{name}.log"
        handle = log.open("ab")
        process = subprocess.Popen([sys.executable, "-m", "webapp.cli", *args], env=self.env,
                                   stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        self.processes.append((process, log))
        return process

    def stop_all(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in self.processes:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()

    def graded_ids(self) -> Counter[int]:
        """How many times each submission was reported graded, over every process's log."""
        counts: Counter[int] = Counter()
        for log in self.data_dir.glob("*.log"):
            counts.update(int(m.group(1)) for m in GRADED_LINE.finditer(log.read_text(errors="replace")))
        return counts

    def session(self) -> Session:
        return Session(create_engine(self.database_url))


def make_site(tmp_path: Path, database_url: str | None, **settings: str) -> Site:
    data_dir = tmp_path / "instance"
    data_dir.mkdir()
    # Only the settings given here: nothing a test process happened to set leaks into the site.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("REHEARSE_")}
    env = {**inherited, "REHEARSE_DATA_DIR": str(data_dir), "REHEARSE_SECRET_KEY": "fault-test-secret",
           **{f"REHEARSE_{k.upper()}": v for k, v in settings.items()}}
    if database_url:
        env["REHEARSE_DATABASE_URL"] = database_url
    else:
        env.pop("REHEARSE_DATABASE_URL", None)
        database_url = f"sqlite:///{data_dir / 'rehearse.db'}"
    site = Site(data_dir=data_dir, database_url=database_url, env=env)
    site.cli("setup")
    return site


def queue_text_answers(site: Site, count: int) -> list[int]:
    """``count`` queued answers to text questions, as if candidates had just submitted them."""
    with site.session() as db:
        user = db.scalar(select(User).limit(1))
        questions = list(db.scalars(select(Question).where(Question.kind == "text")))
        for n in range(count):
            question = questions[n % len(questions)]
            answer = (f"Answer {n}: FastAPI is built on Starlette and ASGI; Pydantic validates request bodies "
                      "from type hints and documents them in OpenAPI. ") * 20
            db.add(Submission(user_id=user.id, question_id=question.id, revision_id=question.current_revision_id,
                              kind=question.kind, answer_text=answer))
        db.commit()
        return list(db.scalars(select(Submission.id).order_by(Submission.id)))


def counts_by_status(site: Site) -> dict[str, int]:
    with site.session() as db:
        rows = db.execute(select(Submission.status, func.count()).group_by(Submission.status)).all()
    return {status.value: count for status, count in rows}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def all_graded(site: Site, total: int) -> bool:
    return counts_by_status(site).get(SubmissionStatus.graded.value, 0) == total
