"""SQLite on a full disk (a small tmpfs of its own): answering is refused with a clear page (507,
"out of disk space, your answer was not saved"), reading goes on, nothing stored is damaged, and
answers are taken and graded again as soon as there is room."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine, select

from tests.faults.load import TEXT_QUESTIONS
from tests.grading.processes import free_port, make_site
from tests.helpers import post_form, register, wait_for
from tests.test_scale_out import _healthy
from webapp.submissions.models import Submission, SubmissionStatus

pytestmark = [pytest.mark.faults, pytest.mark.processes]
DISK = "16m"  # the database with the shipped bank (116 questions, FTS index) takes a few MB


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0700", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root, or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)
        if os.path.ismount(disk):  # something still holds a file open there: detach it now, free it later
            subprocess.run(["umount", "--lazy", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full, to the last block."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        for chunk in (256 * 1024, 4096, 512):
            try:
                while True:
                    handle.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


def integrity(database: Path) -> str:
    with closing(sqlite3.connect(database)) as connection:
        return "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))


def answer(browser: httpx.Client, turn: int) -> httpx.Response:
    question = TEXT_QUESTIONS[turn % len(TEXT_QUESTIONS)]
    page = f"/questions/{question.slug}"
    return post_form(browser, f"{page}/submissions", {"answer": f"Answer {turn}. {question.reference_answer}"},
                     token_page=page)


def submission_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text[:500]
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_answers_on_a_full_disk(tmp_path, small_disk: Path) -> None:
    database = small_disk / "rehearse.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The logs stay on the ordinary disk (the site's data dir); only the database is on the small one.
    site = make_site(tmp_path, f"sqlite:///{database}", grader_concurrency="1", public_url=base,
                     grader_poll_seconds="0.2", submissions_per_window="1000")
    engine = create_engine(f"sqlite:///{database}")

    def graded(ids: set[int]) -> bool:
        with engine.connect() as connection:
            done = connection.scalars(select(Submission.id).where(Submission.status == SubmissionStatus.graded))
            return set(done) >= ids

    def stored() -> dict[int, tuple]:
        with engine.connect() as connection:
            rows = connection.execute(select(Submission.id, Submission.answer_text, Submission.status,
                                             Submission.score, Submission.feedback))
            return {row.id: tuple(row) for row in rows}

    web = site.start("serve", "--port", str(port), name="web")
    try:
        with httpx.Client(base_url=base, timeout=60, headers={"Origin": base}) as browser:
            wait_for(lambda: _healthy(base), timeout=60, interval=0.2, message="the web process")
            assert register(browser, "full@example.com", "a long passphrase").status_code == 303
            before = {submission_id(answer(browser, turn)) for turn in range(3)}
            wait_for(lambda: graded(before), timeout=60, interval=0.1, message="the first answers graded")
            kept = stored()

            filler = fill(small_disk)
            # The write-ahead log may still have room for a few answers; then the disk says no.
            refusal, taken = None, set()
            for turn in range(3, 40):
                response = answer(browser, turn)
                if response.status_code != 303:
                    refusal = response
                    break
                taken.add(submission_id(response))
            assert refusal is not None, "the full disk never refused an answer"
            assert refusal.status_code == 507 and refusal.headers["retry-after"].isdigit(), refusal.text[:500]
            assert "out of disk space, so your answer was not saved" in refusal.text
            assert "Traceback" not in refusal.text and 'class="error-page"' in refusal.text
            assert browser.get("/submissions").status_code == 200  # reading goes on
            assert integrity(database) == "ok"
            assert {i: row for i, row in stored().items() if i in before} == kept

            filler.unlink()
            again = submission_id(answer(browser, 40))
            wait_for(lambda: graded(before | taken | {again}), timeout=60, interval=0.1,
                     message="answers graded once there is room")
        assert web.poll() is None
    finally:
        site.stop_all()
        engine.dispose()
    assert integrity(database) == "ok"
    log = (site.data_dir / "web.log").read_text()
    assert "Traceback" not in log and "database out of space on POST" in log
    print(f"\nfull disk: {len(taken)} answer(s) still fitted in the write-ahead log, then 507; "
          f"{len(before | taken | {again})} answers stored and graded, integrity ok")
