"""Runs a question's hidden tests against a candidate's ``solution.py``.

Standalone on purpose (standard library only): it is copied into the sandbox's work
directory and run as ``python -I harness.py RESULT_FD [--nproc N]`` with ``solution.py``
and ``hidden_tests.py`` beside it. Each ``test_*`` function runs once, in file order; the
results go to the inherited file descriptor RESULT_FD as one JSON document, so nothing the
candidate prints can be mistaken for them:

    {"import_error": str | None, "memory_error": bool,
     "tests": [{"name", "outcome": "passed" | "failed" | "error", "message", "duration_ms"}]}

``--nproc N`` caps the number of processes before any candidate code runs. It is set here,
inside the sandbox, because only there does the kernel count the sandbox's own processes
(per user namespace) instead of every process of the same user on the host.
"""

import json
import os
import sys
import time
import traceback

MESSAGE_LIMIT = 500
_memory_error = False


def _short(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _describe(exc):
    global _memory_error
    _memory_error = _memory_error or isinstance(exc, MemoryError)
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
        except BaseException as exc:  # a failing test (even sys.exit() in a route) must not stop the others
            outcome, message = _describe(exc)
        results.append({"name": name, "outcome": outcome, "message": message,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return results


def _limit_processes(argv):
    if "--nproc" in argv:
        import resource  # noqa: PLC0415

        count = int(argv[argv.index("--nproc") + 1])
        resource.setrlimit(resource.RLIMIT_NPROC, (count, count))


def main():
    result_fd = int(sys.argv[1])
    _limit_processes(sys.argv[2:])
    sys.path.insert(0, os.getcwd())
    report = {"import_error": None, "tests": []}
    try:
        import hidden_tests  # noqa: PLC0415  (imports solution.py in turn)
    except BaseException as exc:  # SyntaxError, SystemExit, anything raised at import time
        report["import_error"] = _describe(exc)[1] if isinstance(exc, Exception) else type(exc).__name__
    else:
        report["tests"] = run_tests(hidden_tests)
    report["memory_error"] = _memory_error
    try:
        with os.fdopen(result_fd, "w") as out:
            json.dump(report, out)
    except OSError:  # the candidate closed or broke the result pipe
        os._exit(3)
    # Leave at once: threads the candidate left running must not keep the sandbox alive.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001  (a closed or replaced stream)
            pass
    os._exit(0)


if __name__ == "__main__":
    main()
