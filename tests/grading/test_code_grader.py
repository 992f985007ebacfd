"""The code grader on every shipped challenge, and its verdicts for broken submissions.

Runs in the bwrap sandbox when bubblewrap is usable, else in process mode (the grading
logic is the same; isolation itself is tested in tests/security/test_hostile_code.py).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from webapp.grading.graders import default_graders
from webapp.grading.graders.base import GradeResult, GradingTask
from webapp.grading.graders.code import CodeGrader
from webapp.grading.sandbox import Limits, Sandbox, SandboxResult, SandboxUnavailable, shared_sandbox
from webapp.questions.bank import QuestionSpec, default_bank_dir, read_path

CODE = [q for q in read_path(default_bank_dir()).questions if q.kind == "code"]
SPEC = CODE[0]
try:
    SANDBOX = shared_sandbox("bwrap")
except SandboxUnavailable:
    SANDBOX = shared_sandbox("process")
GRADER = CodeGrader(SANDBOX)
FAST = {"wall_seconds": 5, "cpu_seconds": 2}


def grade(code: str, spec: QuestionSpec = SPEC, limits: dict[str, Any] | None = None) -> GradeResult:
    default = spec.limits.model_dump() if spec.limits else {}
    return GRADER.grade(GradingTask(kind="code", code=code, hidden_tests=spec.hidden_tests,
                                    limits=limits if limits is not None else default))


def _all(spec: QuestionSpec) -> dict[str, GradeResult]:
    candidates = {"reference": spec.reference_solution, "starter": spec.starter_code}
    candidates |= {f"wrong: {w.label}": w.code for w in spec.wrong_solutions}
    return {name: grade(code, spec) for name, code in candidates.items()}


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, GradeResult]]:
    with ThreadPoolExecutor(max_workers=3) as pool:  # 2 cores here; the sandbox runs are mostly startup
        return dict(zip([q.slug for q in CODE], pool.map(_all, CODE)))


def _hidden_lines(spec: QuestionSpec) -> list[str]:
    return [line.strip() for line in spec.hidden_tests.splitlines() if len(line.strip()) >= 25]


def test_registry_grades_code_with_the_sandbox() -> None:
    grader = default_graders(sandbox=SANDBOX.mode)["code"]
    assert isinstance(grader, CodeGrader) and grader.sandbox is SANDBOX
    assert (grader.name, grader.version) == ("sandbox-tests", "1")


@pytest.mark.parametrize("slug", [q.slug for q in CODE])
def test_shipped_challenge_is_graded_correctly(results, slug: str) -> None:  # type: ignore[no-untyped-def]
    graded = dict(results[slug])
    spec = next(q for q in CODE if q.slug == slug)
    reference = graded.pop("reference")
    assert reference.score == 100 and reference.feedback["verdict"] == "passed", reference.feedback
    assert reference.feedback["passed"] == reference.feedback["total"] > 0
    assert graded.pop("starter").score < 100
    for name, result in graded.items():
        feedback = result.feedback
        assert result.score < 100, f"{slug}: {name} must not score 100"
        failed = [t for t in feedback["tests"] if t["outcome"] != "passed"]
        assert failed and failed[0]["name"].startswith("test_"), f"{slug}: {name}: {feedback}"
        assert feedback["verdict"] in ("wrong_answer", "error") and feedback["summary"]
    for result in results[slug].values():
        assert set(result.feedback) >= {"kind", "verdict", "passed", "total", "tests", "summary", "output"}
        text = json.dumps(result.feedback)
        assert not [line for line in _hidden_lines(spec) if line in text], "hidden test source leaked"


def test_syntax_error_is_reported_with_position_without_running() -> None:
    class Recording(Sandbox):  # the real sandbox, recording whether it was asked to run anything
        runs = 0

        def run(self, *, files: Any, limits: Limits) -> SandboxResult:
            Recording.runs += 1
            return SANDBOX.run(files=files, limits=limits)

    grader = CodeGrader(Recording())
    result = grader.grade(GradingTask(kind="code", code="x = 1\ndef f(:\n    pass\n",
                                      hidden_tests=SPEC.hidden_tests))
    feedback = result.feedback
    assert result.score == 0 and feedback["verdict"] == "syntax_error" and Recording.runs == 0
    assert (feedback["line"], feedback["column"], feedback["message"]) == (2, 7, "invalid syntax")
    assert "Line 2, column 7" in feedback["summary"] and feedback["tests"] == []
    nul = grader.grade(GradingTask(kind="code", code="x = 1\x00", hidden_tests=SPEC.hidden_tests))
    assert nul.feedback["verdict"] == "syntax_error" and Recording.runs == 0
    good = grader.grade(GradingTask(kind="code", code=SPEC.reference_solution, hidden_tests=SPEC.hidden_tests))
    assert good.score == 100 and Recording.runs == 1


@pytest.mark.parametrize("code, verdict, words", [
    ("import sys\nsys.exit(3)\n", "error", "SystemExit: 3"),
    ("import os\nos._exit(0)\n", "error", "exited with code 0 before the tests finished"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", "error", "killed by signal 11"),
    ("while True:\n    pass\n", "time_limit", "did not finish within the limits"),
    ("import signal, time\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n",
     "time_limit", "2 s CPU"),
    # Over the 512 MB limit in one step, refused at once. (Growing there in 256 MB blocks zero-fills
    # each block, and this challenge re-imports a failing solution in each of its 6 tests: on a slow
    # virtual machine that spends the 2 s CPU limit before the memory error settles it.)
    ("data = bytearray(1 << 30)\n", "memory_limit", "ran out of memory (limit 512 MB)"),
    ("import sys\nwhile True:\n    print('spam' * 1000)\n", "output_limit", "more than 64 KiB of output"),
    ("open('x.bin', 'wb').write(b'x' * (2 << 20))\n", "error", "File too large (solution.py line 1) (files are limited to 1 MB)"),
])
def test_broken_programs_get_an_honest_verdict(code: str, verdict: str, words: str) -> None:
    result = grade(code, limits=FAST)
    feedback = result.feedback
    assert (feedback["verdict"], result.score, feedback["passed"]) == (verdict, 0, 0), feedback
    assert words in feedback["summary"]
    assert feedback["total"] == len(feedback["tests"]) == len(SPEC.hidden_tests.split("\ndef test_")) - 1
    assert all(t["outcome"] == "error" and t["message"] for t in feedback["tests"])


def test_partial_credit_names_the_first_failure() -> None:
    wrong = SPEC.wrong_solutions[0].code
    result = grade(wrong)
    feedback = result.feedback
    failed = next(t for t in feedback["tests"] if t["outcome"] != "passed")
    assert result.score == round(100 * feedback["passed"] / feedback["total"])
    assert failed["name"] in feedback["summary"] and feedback["verdict"] == "wrong_answer"


def test_hidden_tests_echoed_by_the_candidate_are_redacted() -> None:
    code = SPEC.reference_solution + "\nprint(open('hidden_tests.py').read())\n"
    result = grade(code)
    assert result.score == 100
    assert "[line of the hidden tests hidden]" in result.feedback["output"]
    assert not [line for line in _hidden_lines(SPEC) if line in result.feedback["output"]]
