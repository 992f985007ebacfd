"""The code grader end to end: the candidate's app in one box, the hidden tests in another,
and the verdict, score and feedback for working, broken and partly right apps.

Runs in the bwrap sandbox when bubblewrap is usable, else in process mode (the grading
logic is the same; isolation itself is tested in tests/security/). Tests taking ``grader``
run twice in bwrap: cold, and warm (boxes started ahead, sandbox/pool.py), with the same
expectations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from webapp.grading.graders import default_graders
from webapp.grading.graders.base import GradeResult, GradingTask
from webapp.grading.graders.code import CodeGrader
from webapp.grading.graders.code_report import GraderError, accepted_results
from webapp.grading.sandbox import ChallengeRun, SandboxUnavailable, shared_sandbox
from webapp.questions.bank import LimitsSpec
from webapp.questions.hidden_tests import HiddenTest
from webapp.questions.kinds import QuestionKind

try:
    SANDBOX = shared_sandbox("bwrap")
except SandboxUnavailable:
    SANDBOX = shared_sandbox("process")
GRADER = CodeGrader(SANDBOX)
FAST = {"wall_seconds": 5, "cpu_seconds": 2}


@pytest.fixture(scope="module")
def warm_grader() -> Iterator[CodeGrader]:
    grader = CodeGrader(SANDBOX)
    grader.start_warm(1)
    yield grader
    grader.stop_warm()


@pytest.fixture(params=["cold", pytest.param("warm", marks=pytest.mark.skipif(
    SANDBOX.mode != "bwrap", reason="warm boxes need bubblewrap"))])
def grader(request: pytest.FixtureRequest) -> Iterator[CodeGrader]:
    if request.param == "cold":
        yield GRADER
        return
    warm: CodeGrader = request.getfixturevalue("warm_grader")
    assert warm.pool is not None
    taken = warm.pool.state().get("taken", 0)
    yield warm
    assert warm.pool.state().get("taken", 0) > taken, ("the answer was not graded in a warm pair", warm.pool.state())

APP = '''
from fastapi import FastAPI, WebSocket

app = FastAPI()
print("app module loaded", flush=True)


@app.get("/items/{item_id}")
def read_item(item_id: int):
    if item_id > 100:
        return {"id": item_id, "big": True}
    return {"id": item_id}


@app.websocket("/ws")
async def echo(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_text((await websocket.receive_text()).upper())
    await websocket.close()
'''
TESTS = '''
from rehearse_tests import weight


@weight(3)
def test_item_comes_back(client):
    assert client.get("/items/7").json() == {"id": 7}, "GET /items/7 should return {'id': 7}"


def test_unknown_path_is_404(client):
    assert client.get("/nope").status_code == 404, "an unknown path should be 404"


def test_bad_id_is_422(client):
    assert client.get("/items/abc").status_code == 422, "a non-integer id should be 422"


def test_websocket_shouts_back(client):
    with client.websocket("/ws") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "HI", "the WebSocket should answer in capitals"
'''
NAMES = ["test_item_comes_back", "test_unknown_path_is_404", "test_bad_id_is_422", "test_websocket_shouts_back"]


def grade(code: str, tests: str = TESTS, limits: dict[str, Any] | None = None, grader: CodeGrader = GRADER,
          **task: Any) -> GradeResult:
    return grader.grade(GradingTask(kind=QuestionKind.code, code=code, hidden_tests=tests,
                                    limits=LimitsSpec.model_validate(limits or FAST), **task))


def test_registry_grades_code_with_the_sandbox() -> None:
    grader = default_graders(sandbox=SANDBOX.mode)["code"]
    assert isinstance(grader, CodeGrader) and grader.sandbox is SANDBOX
    assert (grader.name, grader.version) == ("sandbox-tests", "2")


@pytest.mark.sandbox
def test_a_correct_app_passes_over_http_and_websocket(grader: CodeGrader) -> None:
    result = grade(APP, grader=grader)
    feedback = result.feedback
    assert (result.score, feedback["verdict"], feedback["passed"], feedback["total"]) == (100, "passed", 4, 4)
    assert [t["name"] for t in feedback["tests"]] == NAMES
    assert feedback["earned_points"] == feedback["total_points"] == 6
    assert "app module loaded" in feedback["output"]  # print-debugging works


@pytest.mark.sandbox
def test_score_is_the_weighted_share_of_tests_passed() -> None:
    result = grade(APP.replace('return {"id": item_id}', 'return {"id": str(item_id)}'))
    feedback = result.feedback
    assert feedback["verdict"] == "wrong_answer" and feedback["earned_points"] == 3 and feedback["total_points"] == 6
    assert result.score == 50  # the weight-3 test failed: 3 of 6 points
    first = feedback["tests"][0]
    assert (first["outcome"], first["weight"]) == ("failed", 3)
    assert first["message"] == "GET /items/7 should return {'id': 7}"
    assert "test_item_comes_back" in feedback["summary"]


def test_syntax_error_is_reported_with_position_without_running() -> None:
    result = grade("x = 1\ndef f(:\n    pass\n")
    feedback = result.feedback
    assert result.score == 0 and feedback["verdict"] == "syntax_error"
    assert (feedback["line"], feedback["column"], feedback["message"]) == (2, 7, "invalid syntax")
    assert "Line 2, column 7" in feedback["summary"] and feedback["tests"] == [] and feedback["total"] == 4
    assert grade("x = 1\x00").feedback["verdict"] == "syntax_error"


@pytest.mark.parametrize("code, verdict, words", [
    ("import sys\nsys.exit(3)\n", "error", "could not be imported: SystemExit: 3"),
    ("import os\nos._exit(0)\n", "error", "the app exited before it started serving"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", "error", "exited before it started serving"),
    ("x = 1\n", "error", "defines no app"),
    ("import missing_module\n", "error", "No module named 'missing_module' (solution.py line 1)"),
    ("while True:\n    pass\n", "time_limit", "used up its CPU time (2 s) before it started serving"),
    ("import time\ntime.sleep(600)\n", "time_limit", "never started serving"),
    ("data = bytearray(1 << 30)\n", "memory_limit", "MemoryError"),
    ("import sys\nwhile True:\n    print('spam' * 1000)\n", "output_limit", "more than 64 KiB of output"),
    ("open('x.bin', 'wb').write(b'x' * (2 << 20))\n", "error", "(files are limited to 1 MB)"),
])
@pytest.mark.sandbox
def test_apps_that_never_serve_get_an_honest_verdict(code: str, verdict: str, words: str,
                                                    grader: CodeGrader) -> None:
    result = grade(code, grader=grader)
    feedback = result.feedback
    assert (feedback["verdict"], result.score, feedback["passed"]) == (verdict, 0, 0), feedback
    assert words in feedback["summary"], feedback["summary"]
    assert [t["name"] for t in feedback["tests"]] == NAMES
    assert all(t["outcome"] == "not_run" and t["message"].startswith("not run: ") for t in feedback["tests"])


@pytest.mark.sandbox
def test_a_hanging_route_times_out_that_test_only() -> None:
    code = APP.replace('    if item_id > 100:', '    import time\n    time.sleep(60)\n    if item_id > 100:')
    result = grade(code, limits={"wall_seconds": 8})
    by_name = {t["name"]: t for t in result.feedback["tests"]}
    assert by_name["test_item_comes_back"]["outcome"] == "timeout"
    assert by_name["test_unknown_path_is_404"]["outcome"] == "passed"
    assert result.feedback["verdict"] == "time_limit" and result.score == 50


@pytest.mark.sandbox
def test_an_app_that_dies_during_the_tests_fails_the_rest_quickly(grader: CodeGrader) -> None:
    code = APP.replace('    if item_id > 100:', '    import os\n    os._exit(1)\n    if item_id > 100:')
    result = grade(code, grader=grader)
    feedback = result.feedback
    assert feedback["verdict"] == "error" and "stopped during the tests" in feedback["summary"]
    later = [t for t in feedback["tests"] if t["name"] != "test_item_comes_back"]
    assert all(t["outcome"] == "error" and "not running" in t["message"] for t in later)
    assert sum(t["duration_ms"] for t in later) < 3000  # refused at once, not timed out


@pytest.mark.sandbox
def test_fail_fast_skips_the_tests_after_the_first_failure() -> None:
    result = grade(APP.replace('"id": item_id}', '"id": 0}'), fail_fast=True)
    outcomes = [t["outcome"] for t in result.feedback["tests"]]
    assert outcomes == ["failed", "skipped", "skipped", "skipped"] and result.score == 0


def test_a_test_that_breaks_a_rule_is_a_grader_error_not_a_score() -> None:
    with pytest.raises(GraderError, match="cannot import solution"):
        grade(APP, tests="from solution import app\n\ndef test_it(client):\n    pass\n")
    with pytest.raises(GraderError, match="unknown fixture"):
        grade(APP, tests="def test_it(app):\n    pass\n")


@pytest.mark.sandbox
def test_hidden_tests_that_fail_to_load_are_a_grader_error() -> None:
    with pytest.raises(GraderError, match="could not be loaded.*ZeroDivisionError"):
        grade(APP, tests="x = 1 / 0\n\ndef test_it(client):\n    pass\n")


@pytest.mark.sandbox
def test_hidden_test_source_is_never_in_the_feedback(grader: CodeGrader) -> None:
    probe = APP + "\nimport os\nprint('FILES', sorted(os.listdir('.')), flush=True)\n"
    result = grade(probe, grader=grader)
    text = json.dumps(result.feedback)
    assert result.score == 100 and "FILES ['app_host.py', 'solution.py']" in result.feedback["output"]
    assert "hidden_tests" not in text and "rehearse_tests" not in text and "def test_" not in text


# the report: anything but exactly the revision's tests is refused -----------------------------
TESTS_OF = [HiddenTest("test_a"), HiddenTest("test_b", 2)]


def _run(*events: dict[str, Any], **fields: Any) -> ChallengeRun:
    return ChallengeRun(app="ready", events=list(events), runner_started_tests=True, **fields)


def _result(name: str, outcome: str = "passed", **extra: Any) -> dict[str, Any]:
    return {"event": "result", "name": name, "outcome": outcome, "message": "", "duration_ms": 1.0, **extra}


LOADED = {"event": "loaded", "tests": ["test_a", "test_b"]}
DONE = {"event": "done"}


def test_a_complete_report_is_accepted() -> None:
    results = accepted_results(_run(LOADED, _result("test_a"), _result("test_b", "failed"), DONE), tests=TESTS_OF)
    assert [(r["name"], r["outcome"]) for r in results] == [("test_a", "passed"), ("test_b", "failed")]


@pytest.mark.parametrize("run, why", [
    (_run({"event": "loaded", "tests": ["test_a"]}, _result("test_a"), DONE), "the runner collected"),
    (_run(LOADED, _result("test_a"), DONE), "the runner reported"),
    (_run(LOADED, _result("test_a"), _result("test_b"), _result("test_c"), DONE), "the runner reported"),
    (_run(LOADED, _result("test_b"), _result("test_a"), DONE), "the runner reported"),
    (_run(LOADED, _result("test_a"), _result("test_a"), DONE), "the runner reported"),
    (_run(LOADED, _result("test_a"), _result("test_b")), "stopped before reporting every test"),
    (_run(LOADED, _result("test_a", "great"), _result("test_b"), DONE), "malformed result"),
    (_run(LOADED, _result("test_a", extra=1), _result("test_b"), DONE), "malformed result"),
    (_run(LOADED, _result("test_a", message=7), _result("test_b"), DONE), "malformed result"),
    (_run(LOADED, _result("test_a", duration_ms="1"), _result("test_b"), DONE), "malformed result"),
    (_run(LOADED, _result("test_a", message="x" * 5000), _result("test_b"), DONE), "malformed result"),
    (_run(LOADED, _result("test_a"), _result("test_b"), DONE, malformed=["All 2 tests passed"]), "not a JSON object"),
    (_run(LOADED, DONE, report_overflowed=True), "larger than 1 MiB"),
    (_run({"event": "load_error", "message": "SyntaxError"}), "could not be loaded"),
    (_run(), "did not start"),
])
def test_any_other_report_is_a_grader_error(run: ChallengeRun, why: str) -> None:
    with pytest.raises(GraderError, match=why):
        accepted_results(run, tests=TESTS_OF)
