"""Code grading: a static check, then the revision's hidden tests in the sandbox.

The harness (webapp/grading/harness.py) calls the test functions directly, so a submission
costs one interpreter start plus the tests (no pytest). Feedback never contains the hidden
tests' source: test names and the assertion messages written for candidates only, and
output lines that repeat a line of the hidden tests (a traceback, a warning) are redacted.
"""

from __future__ import annotations

import ast
import signal
from typing import Any

from webapp.grading.graders.base import GradeResult, GradingTask
from webapp.grading.sandbox import Limits, Sandbox, SandboxResult

EXCERPT_CHARS = 2000
MAX_TESTS = 500
REDACTED = "[line of the hidden tests hidden]"


class CodeGrader:
    name = "sandbox-tests"
    version = "1"
    long_running = True

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def grade(self, task: GradingTask) -> GradeResult:
        names = _test_names(task.hidden_tests)
        try:
            compile(task.code, "solution.py", "exec", dont_inherit=True)
        except SyntaxError as exc:
            return _syntax_error(exc, names)
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            return _syntax_error(SyntaxError(f"{type(exc).__name__}: {exc}"), names)
        limits = Limits.from_dict(task.limits)
        result = self.sandbox.run(files={"solution.py": task.code, "hidden_tests.py": task.hidden_tests},
                                  limits=limits)
        return _judge(result, limits=limits, names=names, hidden_tests=task.hidden_tests)


def _test_names(hidden_tests: str) -> list[str]:
    try:
        tree = ast.parse(hidden_tests)
    except SyntaxError:
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")]


def _syntax_error(exc: SyntaxError, names: list[str]) -> GradeResult:
    line, column = exc.lineno, exc.offset
    where = f"Line {line}, column {column}: " if line else ""
    return GradeResult(0, {
        "kind": "tests", "verdict": "syntax_error", "passed": 0, "total": len(names),
        "tests": [], "line": line, "column": column, "message": exc.msg,
        "summary": f"{where}{exc.msg}. Nothing was run; fix the syntax error and submit again.", "output": "",
    })


def _judge(result: SandboxResult, *, limits: Limits, names: list[str], hidden_tests: str) -> GradeResult:
    report = result.report
    ran = list(report["tests"])[:MAX_TESTS] if report else []
    passed = sum(t.get("outcome") == "passed" for t in ran)
    total = len(ran) or len(names)
    complete = bool(report) and not report.get("import_error") and bool(ran)
    if complete:
        tests = [_clean(t) for t in ran]
    else:
        reason = _not_run_reason(result)
        tests = [{"name": n, "outcome": "error", "message": f"not run: {reason}", "duration_ms": 0} for n in names]
    verdict = _verdict(result, complete=complete, all_passed=complete and passed == len(ran))
    score = round(100 * passed / total) if total else 0
    feedback: dict[str, Any] = {
        "kind": "tests", "verdict": verdict, "passed": passed, "total": total, "tests": tests,
        "summary": _summary(verdict, result, limits=limits, passed=passed, total=total, tests=tests),
        "output": _excerpt(result, hidden_tests),
    }
    return GradeResult(score if verdict == "passed" else min(score, 99), feedback)


def _verdict(result: SandboxResult, *, complete: bool, all_passed: bool) -> str:
    if result.output_limit_exceeded:
        return "output_limit"
    if complete:
        if all_passed:
            return "passed"
        if result.memory_limit_hit:
            return "memory_limit"
        # Every test raised (none merely failed an assertion): the program itself is broken.
        return "error" if all(t.get("outcome") == "error" for t in result.report["tests"]) else "wrong_answer"
    if result.timed_out or result.signal in (signal.SIGXCPU, signal.SIGKILL):
        # SIGKILL without a report is the hard CPU limit (SIGXCPU ignored) or the wall clock.
        return "time_limit"
    return "memory_limit" if result.memory_limit_hit else "error"


def _not_run_reason(result: SandboxResult) -> str:
    if result.report and result.report.get("import_error"):
        return "solution.py failed to import"
    if result.output_limit_exceeded:
        return "the output limit was exceeded"
    if result.timed_out or result.signal in (signal.SIGXCPU, signal.SIGKILL):
        return "the time limit was exceeded"
    return "the program stopped before the tests finished"


def _summary(verdict: str, result: SandboxResult, *, limits: Limits, passed: int, total: int,
             tests: list[dict[str, Any]]) -> str:
    if verdict == "passed":
        return f"All {total} hidden tests passed."
    if verdict == "wrong_answer":
        first = next(t for t in tests if t["outcome"] != "passed")
        return f"{passed} of {total} hidden tests passed; the first to fail was {first['name']}: {first['message']}"
    if verdict == "time_limit":
        return (f"Stopped: the tests did not finish within the limits ({limits.wall_seconds:g} s wall clock, "
                f"{limits.cpu_seconds:g} s CPU). Look for an endless loop or a blocking call.")
    if verdict == "memory_limit":
        return f"Stopped: the program ran out of memory (limit {limits.memory_mb} MB)."
    if verdict == "output_limit":
        return f"Stopped: the program printed more than {limits.output_bytes // 1024} KiB of output."
    report = result.report or {}
    error = report.get("import_error") or (tests[0]["message"] if report.get("tests") else "")
    if error:
        hint = f" (files are limited to {limits.file_size_mb} MB)" if "File too large" in error else ""
        where = "solution.py could not be imported" if report.get("import_error") else "Every test stopped with an error"
        return f"{where}: {error}{hint}"
    how = f"was killed by signal {result.signal}" if result.signal else f"exited with code {result.exit_code}"
    return f"The program {how} before the tests finished, so no test result was recorded."


def _clean(test: dict[str, Any]) -> dict[str, Any]:
    outcome = test.get("outcome") if test.get("outcome") in ("passed", "failed", "error") else "error"
    return {"name": str(test.get("name", "?"))[:200], "outcome": outcome,
            "message": str(test.get("message", ""))[:1000], "duration_ms": float(test.get("duration_ms") or 0)}


def _excerpt(result: SandboxResult, hidden_tests: str) -> str:
    secret = {line.strip() for line in hidden_tests.splitlines() if len(line.strip()) >= 8}
    parts = []
    for label, text, keep_end in (("stdout", result.stdout, False), ("stderr", result.stderr, True)):
        if not text.strip():
            continue
        text = "\n".join(REDACTED if line.strip() in secret else line for line in text.splitlines())
        if len(text) > EXCERPT_CHARS:
            text = "… " + text[-EXCERPT_CHARS:] if keep_end else text[:EXCERPT_CHARS] + " …"
        parts.append(f"--- {label} ---\n{text}")
    return "\n".join(parts)
