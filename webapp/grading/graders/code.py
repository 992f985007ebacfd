"""Code grading: a static check on the server, then the candidate's app in one box and the
hidden tests in another (sandbox/challenge.py), talking over HTTP only.

The score is the weighted share of the revision's tests that passed, taken from the test
runner's report once it names exactly those tests (code_report.py); nothing the
candidate's code prints or writes elsewhere counts. The feedback shows each test's name,
outcome and the message its author wrote for candidates, and the app's own output, capped:
the hidden tests' source is never in the candidate's box, so it cannot be in that output.

With ``start_warm`` the grader keeps pairs of boxes started ahead (sandbox/pool.py), each
for one answer only; a run takes one when it is ready and starts cold otherwise.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

from webapp.grading.graders.base import GradeResult, GradingTask
from webapp.grading.graders.code_report import GraderError, accepted_results
from webapp.grading.sandbox import ChallengeRun, Limits, Sandbox, WarmPool, run_challenge
from webapp.questions.hidden_tests import HiddenTest, HiddenTestsProblem, collect_tests

log = logging.getLogger("rehearse.grading")
EXCERPT_CHARS = 2000
CPU_LIMIT_SIGNALS = (signal.SIGXCPU, signal.SIGKILL)  # SIGKILL: the hard CPU limit, SIGXCPU ignored
TEST_SECONDS = 5.0  # per test, within the question's wall-clock limit for the whole run
APP_FAILURES = {
    "import_error": "solution.py could not be imported",
    "no_app": "solution.py defines no app",
    "exited": "the app exited before it started serving",
    "stopped": "the app stopped before serving (its lifespan startup failed?)",
}


class CodeGrader:
    name = "sandbox-tests"
    version = "2"
    long_running = True

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.pool: WarmPool | None = None

    def start_warm(self, size: int) -> None:
        """Keep ``size`` pairs of boxes started ahead (bwrap only; 0: every run starts cold)."""
        if size <= 0 or self.pool is not None:
            return
        if self.sandbox.mode != "bwrap":
            log.info("warm sandboxes are off: they need the bwrap sandbox, not %s", self.sandbox.mode)
            return
        self.pool = WarmPool(self.sandbox, size=size)
        self.pool.start()

    def stop_warm(self, timeout: float = 10) -> None:
        """Kill the pairs not in use, after waiting up to ``timeout`` for runs using one."""
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.close(timeout)

    def grade(self, task: GradingTask) -> GradeResult:
        try:
            tests = collect_tests(task.hidden_tests)
        except HiddenTestsProblem as exc:
            raise GraderError(f"the question's hidden tests are invalid: {exc}") from None
        try:
            compile(task.code, "solution.py", "exec", dont_inherit=True)
        except SyntaxError as exc:
            return _syntax_error(exc, tests)
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            return _syntax_error(SyntaxError(f"{type(exc).__name__}: {exc}"), tests)
        limits = Limits.from_dict(task.limits.model_dump() if task.limits else None)
        run = run_challenge(self.sandbox, solution=task.code, hidden_tests=task.hidden_tests, limits=limits,
                            test_seconds=min(TEST_SECONDS, limits.wall_seconds), fail_fast=task.fail_fast,
                            pool=self.pool)
        if not run.app_armed:  # nothing of the answer ran: the sandbox failed, not the candidate
            detail = (run.stderr.strip() or run.runner_diagnostics.strip())[-800:]
            raise GraderError("the app's box did not start"
                              + (" before the time limit" if run.timed_out else "")
                              + (f" (its output: {detail})" if detail else ""))
        return _judge(run, tests=tests, limits=limits, suite=task.suite)


def _syntax_error(exc: SyntaxError, tests: list[HiddenTest]) -> GradeResult:
    line, column = exc.lineno, exc.offset
    where = f"Line {line}, column {column}: " if line else ""
    return GradeResult(0, {
        "kind": "tests", "verdict": "syntax_error", "passed": 0, "total": len(tests),
        "tests": [], "line": line, "column": column, "message": exc.msg,
        "summary": f"{where}{exc.msg}. Nothing was run; fix the syntax error and submit again.", "output": "",
    })


def _judge(run: ChallengeRun, *, tests: list[HiddenTest], limits: Limits, suite: str) -> GradeResult:
    if run.output_limit_exceeded:  # killed for its output: whatever the runner saw afterwards is moot
        results = [_not_run(t.name, "the output limit was exceeded") for t in tests]
    elif run.app == "ready":
        results = accepted_results(run, tests=tests)
    else:
        why = APP_FAILURES.get(run.app, "the app did not start within the time limit")
        results = [_not_run(t.name, why) for t in tests]
    weights = {t.name: t.weight for t in tests}
    earned = sum(weights[r["name"]] for r in results if r["outcome"] == "passed")
    possible = sum(weights.values())
    verdict = _verdict(run, results)
    score = round(100 * earned / possible) if possible else 0
    feedback: dict[str, Any] = {
        "kind": "tests", "verdict": verdict, "passed": sum(r["outcome"] == "passed" for r in results),
        "total": len(tests), "earned_points": earned, "total_points": possible,
        "tests": [{**r, "weight": weights[r["name"]]} for r in results],
        "summary": _summary(verdict, run, limits=limits, results=results, suite=suite),
        "output": _excerpt(run),
    }
    return GradeResult(score if verdict == "passed" else min(score, 99), feedback)


def _not_run(name: str, why: str) -> dict[str, Any]:
    return {"name": name, "outcome": "not_run", "message": f"not run: {why}", "duration_ms": 0}


def _verdict(run: ChallengeRun, results: list[dict[str, Any]]) -> str:
    outcomes = {r["outcome"] for r in results}
    if run.output_limit_exceeded:
        return "output_limit"
    if run.app_signal in CPU_LIMIT_SIGNALS:
        return "time_limit"
    if run.app in APP_FAILURES:
        return "memory_limit" if run.memory_limit_hit else "error"
    if run.app != "ready":
        return "time_limit"
    if outcomes == {"passed"}:
        return "passed"
    if outcomes & {"timeout", "not_run"}:
        return "time_limit"
    if run.app_exited_early and run.memory_limit_hit:
        return "memory_limit"
    return "error" if outcomes == {"error"} or run.app_exited_early else "wrong_answer"


def _summary(verdict: str, run: ChallengeRun, *, limits: Limits, results: list[dict[str, Any]], suite: str) -> str:
    passed, total = sum(r["outcome"] == "passed" for r in results), len(results)
    if verdict == "passed":
        return f"All {total} {suite} tests passed."
    if verdict == "output_limit":
        return f"Stopped: the app printed more than {limits.output_bytes // 1024} KiB of output."
    if verdict == "time_limit" and run.app_signal in CPU_LIMIT_SIGNALS:
        return (f"Stopped: the app used up its CPU time ({limits.cpu_seconds:g} s) "
                f"{'before it started serving' if run.app != 'ready' else 'during the tests'}. "
                f"{passed} of {total} {suite} tests passed. Look for an endless loop.")
    if run.app in APP_FAILURES:
        detail = f": {run.app_message}" if run.app_message else ""
        hint = f" (files are limited to {limits.file_size_mb} MB)" if "File too large" in run.app_message else ""
        return f"{APP_FAILURES[run.app]}{detail}{hint}. No test was run."
    if verdict == "time_limit":
        started = "" if run.app == "ready" else " The app never started serving."
        return (f"{passed} of {total} {suite} tests passed before the time limit ({limits.wall_seconds:g} s for "
                f"the run, {TEST_SECONDS:g} s per test).{started} Look for an endless loop or a blocking call.")
    first = next(r for r in results if r["outcome"] != "passed")
    stopped = " Your app stopped during the tests; see its output." if run.app_exited_early else ""
    memory = f" It ran out of memory (limit {limits.memory_mb} MB)." if verdict == "memory_limit" else ""
    return (f"{passed} of {total} {suite} tests passed; the first to fail was {first['name']}: "
            f"{first['message']}{stopped}{memory}")


def _excerpt(run: ChallengeRun) -> str:
    parts = []
    for label, text, keep_end in (("stdout", run.stdout, False), ("stderr", run.stderr, True)):
        if not text.strip():
            continue
        if len(text) > EXCERPT_CHARS:
            text = "… " + text[-EXCERPT_CHARS:] if keep_end else text[:EXCERPT_CHARS] + " …"
        parts.append(f"--- {label} ---\n{text}")
    return "\n".join(parts)
