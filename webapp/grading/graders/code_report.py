"""Accepting the test runner's report, or refusing it as a grader error.

The runner is trusted, so a report that is not exactly what the protocol says (the tests it
collected differ from the revision's, a result missing, extra, out of order, malformed or
oversized, or no final line) means the grading machinery failed or was tampered with:
it is never turned into a score. The job fails with the reason, which admins see on the
queue page; the candidate sees that grading failed and can be regraded.
"""

from __future__ import annotations

from typing import Any

from webapp.grading.sandbox import ChallengeRun
from webapp.questions.hidden_tests import HiddenTest

OUTCOMES = ("passed", "failed", "error", "timeout", "not_run", "skipped")
RESULT_KEYS = {"event", "name", "outcome", "message", "duration_ms"}
MESSAGE_LIMIT = 2000


class GraderError(RuntimeError):
    """The grading machinery failed (not the candidate's doing); the message is for admins."""


def accepted_results(run: ChallengeRun, *, tests: list[HiddenTest]) -> list[dict[str, Any]]:
    """The per-test results of a run whose app came up, checked against the revision's tests."""
    if run.report_overflowed:
        raise GraderError("the test runner's report was larger than 1 MiB")
    if run.malformed:
        raise GraderError(f"the test runner wrote a line that is not a JSON object: {run.malformed[0]!r}")
    if load_error := run.event("load_error"):
        raise GraderError(f"the hidden tests could not be loaded by the runner: {load_error.get('message')}")
    names = [t.name for t in tests]
    events = run.events
    if not events or events[0].get("event") != "loaded":
        raise GraderError(_stopped("the test runner did not start before the time limit", run))
    if events[0].get("tests") != names:
        raise GraderError(f"the runner collected {events[0].get('tests')!r}, the revision has {names!r}")
    if not run.runner_started_tests:
        raise GraderError(_stopped("the tests could not be started", run))
    results, end = events[1:], None
    if results and results[-1] == {"event": "done"}:
        results, end = results[:-1], True
    if not end:
        raise GraderError(_stopped("the test runner stopped before reporting every test", run))
    if [r.get("name") for r in results] != names:
        raise GraderError(f"the runner reported {[r.get('name') for r in results]!r}, expected {names!r}")
    return [_checked(result) for result in results]


def _checked(result: dict[str, Any]) -> dict[str, Any]:
    duration = result.get("duration_ms")
    valid = (set(result) == RESULT_KEYS and result.get("event") == "result" and result.get("outcome") in OUTCOMES
             and isinstance(result.get("message"), str) and len(result["message"]) <= MESSAGE_LIMIT
             and isinstance(duration, (int, float)) and not isinstance(duration, bool) and 0 <= duration < 1e7)
    if not valid:
        raise GraderError(f"the runner reported a malformed result: {str(result)[:300]}")
    return {key: result[key] for key in ("name", "outcome", "message", "duration_ms")}


def _stopped(what: str, run: ChallengeRun) -> str:
    diagnostics = run.runner_diagnostics.strip()[-800:]
    return f"{what}{' (runner output: ' + diagnostics + ')' if diagnostics else ''}"
