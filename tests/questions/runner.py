"""Runs hidden tests against a solution in a plain subprocess (for checking the bank itself)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "webapp" / "grading" / "harness.py"


def run_hidden_tests(solution: str, hidden_tests: str, *, timeout: float = 30) -> dict:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "solution.py").write_text(solution)
        (Path(work) / "hidden_tests.py").write_text(hidden_tests)
        shutil.copy(HARNESS, Path(work) / "harness.py")
        read_end, write_end = os.pipe()
        process = subprocess.Popen([sys.executable, "-I", "harness.py", str(write_end)], cwd=work,
                                   pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(write_end)
        with os.fdopen(read_end) as results:
            report = results.read()
        process.wait(timeout=timeout)
    return json.loads(report) if report else {"import_error": "no report", "tests": []}


def passed_all(report: dict) -> bool:  # type: ignore[type-arg]
    return not report["import_error"] and bool(report["tests"]) and all(
        t["outcome"] == "passed" for t in report["tests"]
    )
