"""Grader lanes: quick answers (text, choice) are never stuck behind long code runs."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from tests.helpers import wait_for
from webapp.core.db import session_scope
from webapp.grading.graders import default_graders
from webapp.grading.graders.base import GradeResult, GradingTask
from webapp.grading.worker import GradingService, lanes
from webapp.identity.models import Role
from webapp.questions.bank import default_bank_dir, read_path
from webapp.questions.importer import apply_import
from webapp.questions.models import Question
from webapp.submissions.models import Submission, SubmissionStatus


class _Held:
    """A long-running grader that holds each answer until released."""

    name, version, long_running = "held", "1", True

    def __init__(self) -> None:
        self.release = threading.Event()
        self.holding = 0

    def grade(self, task: GradingTask) -> GradeResult:
        self.holding += 1
        self.release.wait(30)
        return GradeResult(100, {"kind": "held"})


class _Quick:
    name, version, long_running = "quick", "1", False

    def grade(self, task: GradingTask) -> GradeResult:
        return GradeResult(50, {"kind": "quick"})


def test_lanes_add_one_quick_thread_only_when_some_kind_runs_long() -> None:
    graders = default_graders(sandbox="process")
    assert lanes(graders, 2) == [("text", "choice", "code")] * 2 + [("text", "choice")]
    assert lanes({"text": graders["text"], "choice": graders["choice"]}, 2) == [("text", "choice")] * 2
    assert lanes(graders, 0) == []


def _queue(app, user_id: int, kinds: list[str]) -> list[int]:
    with session_scope(app.state.db.write_session) as db:
        questions = {q.kind.value: q for q in db.scalars(select(Question))}
        rows = [Submission(user_id=user_id, question_id=questions[k].id, revision_id=questions[k].current_revision_id,
                           kind=questions[k].kind, answer_text="an answer", code="x = 1\n" if k == "code" else "")
                for k in kinds]
        db.add_all(rows)
        db.flush()
        return [r.id for r in rows]


def _statuses(app, ids: list[int]) -> list[SubmissionStatus]:
    with session_scope(app.state.db.read_session) as db:
        return [db.get(Submission, i).status for i in ids]


def test_a_text_answer_is_graded_while_every_general_thread_runs_code(app, make_user) -> None:
    with session_scope(app.state.db.write_session) as db:
        apply_import(db, bank=read_path(default_bank_dir()), actor=None, source="test")
    user = make_user(Role.candidate)
    held = _Held()
    service = GradingService(app.state.db, {"text": _Quick(), "code": held}, concurrency=2, poll_seconds=0.05)
    code = _queue(app, user.id, ["code", "code", "code"])  # older than the text answer, and more than the threads
    [text] = _queue(app, user.id, ["text"])
    service.start()
    try:
        deadline = time.monotonic() + 30  # for both waits together
        wait_for(lambda: _statuses(app, [text]) == [SubmissionStatus.graded], timeout=30,
                 message="the text answer to be graded (not to wait behind the code runs)")
        # The general threads may still be taking their code jobs when the quick lane is done.
        wait_for(lambda: held.holding == 2, timeout=max(0.0, deadline - time.monotonic()),
                 message="both general threads to hold a code run")
        assert _statuses(app, code).count(SubmissionStatus.running) == 2
        held.release.set()
        wait_for(lambda: _statuses(app, code) == [SubmissionStatus.graded] * 3,
                 timeout=max(0.0, deadline - time.monotonic()), message="the code answers to be graded after release")
    finally:
        held.release.set()
        service.stop()
