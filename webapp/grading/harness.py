"""Runs a question's hidden tests against a candidate's ``solution.py``.

Standalone on purpose (standard library only): it is copied into the sandbox's work
directory and run as ``python -I harness.py RESULT_FD`` with ``solution.py`` and
``hidden_tests.py`` beside it. Each ``test_*`` function runs once, in file order; the
results go to the inherited file descriptor RESULT_FD as one JSON document, so nothing the
candidate prints can be mistaken for them.
"""

import json
import os
import sys
import time
import traceback

MESSAGE_LIMIT = 500


def _short(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _describe(exc):
    if isinstance(exc, AssertionError):
        return "failed", _short(exc) if str(exc) else "an assertion failed"
    # Name where it failed in the candidate's code, never the hidden test's source.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith("solution.py")]
    where = f" (solution.py line {frames[-1].lineno})" if frames else ""
    return "error", _short(f"{type(exc).__name__}: {exc}{where}")


def run_tests(module):
    tests = [(name, fn) for name, fn in vars(module).items() if name.startswith("test_") and callable(fn)]
    results = []
    for name, fn in tests:
        started = time.perf_counter()
        try:
            fn()
            outcome, message = "passed", ""
        except Exception as exc:  # a failing test must not stop the others
            outcome, message = _describe(exc)
        results.append({"name": name, "outcome": outcome, "message": message,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return results


def main():
    result_fd = int(sys.argv[1])
    sys.path.insert(0, os.getcwd())
    report = {"import_error": None, "tests": []}
    try:
        import hidden_tests  # noqa: PLC0415  (imports solution.py in turn)
    except BaseException as exc:  # SyntaxError, SystemExit, anything raised at import time
        report["import_error"] = _describe(exc)[1] if isinstance(exc, Exception) else type(exc).__name__
    else:
        report["tests"] = run_tests(hidden_tests)
    with os.fdopen(result_fd, "w") as out:
        json.dump(report, out)


if __name__ == "__main__":
    main()
