"""What the code sandbox costs per submission, and code-grading throughput.

Run: ``.venv/bin/python -m bench.sandbox_overhead`` (``make bench`` runs every benchmark).

1. Overhead: the same harness on the same files, timed from spawn to parsed report,
   (a) unsandboxed: a plain subprocess in a temp dir, as tests/questions/runner.py does
   (the reference, measured in the same command), (b) process mode, (c) bwrap. Two
   workloads: a trivial test (pure startup cost) and a bank challenge's reference solution.
2. Throughput: every code challenge's reference solution graded with 2 threads (the
   machine's 2 cores): the CodeGrader in each mode against the unsandboxed harness.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import spread
from webapp.grading.graders.base import GradingTask
from webapp.grading.graders.code import CodeGrader
from webapp.grading.sandbox import HARNESS_SOURCE, Limits, Sandbox, SandboxUnavailable, make_sandbox
from webapp.questions.bank import default_bank_dir, read_path

RUNS = 10
THROUGHPUT_RUNS = 3
THREADS = 2
CODE = [q for q in read_path(default_bank_dir()).questions if q.kind == "code"]
TRIVIAL = {"solution.py": "x = 1\n", "hidden_tests.py": "def test_it():\n    import solution\n"}
CHALLENGE = {"solution.py": CODE[0].reference_solution, "hidden_tests.py": CODE[0].hidden_tests}


def unsandboxed(files: dict[str, str]) -> dict:  # type: ignore[type-arg]
    """The harness in a plain subprocess: no limits, no isolation."""
    with tempfile.TemporaryDirectory() as work:
        for name, text in {**files, "harness.py": HARNESS_SOURCE.decode()}.items():
            Path(work, name).write_text(text)
        read_end, write_end = os.pipe()
        process = subprocess.Popen([sys.executable, "-I", "-B", "harness.py", str(write_end)], cwd=work,
                                   pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_end)
        with os.fdopen(read_end) as results:
            report = json.loads(results.read())
        process.wait()
    return report


def _timed(variants: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """ms per run of each variant, interleaved so that load from elsewhere hits them alike."""
    for run in variants.values():
        run()  # warm the page cache
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(RUNS):
        for name, run in variants.items():
            started = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def _throughput(grade_one: Callable[[str, str], object]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda q: grade_one(q.reference_solution, q.hidden_tests), CODE))
    return len(CODE) / (time.perf_counter() - started)


def _sandboxes() -> dict[str, Sandbox | None]:
    found: dict[str, Sandbox | None] = {"process": make_sandbox("process")}
    try:
        found["bwrap"] = make_sandbox("bwrap")
    except SandboxUnavailable as exc:
        print(f"bwrap not measured: {exc}", file=sys.stderr)
        found["bwrap"] = None
    return found


def report() -> str:
    sandboxes = {mode: sandbox for mode, sandbox in _sandboxes().items() if sandbox}
    rows = []
    for label, files in (("trivial test (startup only)", TRIVIAL), (f"challenge `{CODE[0].slug}` (reference)", CHALLENGE)):
        variants: dict[str, Callable[[], object]] = {"unsandboxed": lambda: unsandboxed(files)}
        variants |= {mode: (lambda s=sandbox: s.run(files=files, limits=Limits())) for mode, sandbox in sandboxes.items()}
        times = _timed(variants)
        reference = statistics.median(times["unsandboxed"])
        cells = [spread(times["unsandboxed"])] + [
            f"{spread(times[mode])} ({statistics.median(times[mode]) / reference:.2f}×)" if mode in times else "n/a"
            for mode in ("process", "bwrap")]
        rows.append(f"| {label} | {' | '.join(cells)} |")
    graders = {"unsandboxed harness": lambda s, t: unsandboxed({"solution.py": s, "hidden_tests.py": t})}
    for mode, sandbox in sandboxes.items():
        grader = CodeGrader(sandbox)
        graders[f"CodeGrader, {mode}"] = lambda s, t, g=grader: g.grade(GradingTask(kind="code", code=s, hidden_tests=t))
    speeds: dict[str, list[float]] = {name: [] for name in graders}
    for _ in range(THROUGHPUT_RUNS):
        for name, grade_one in graders.items():
            speeds[name].append(_throughput(grade_one))
    return "\n".join([
        "## Code grading: sandbox overhead and throughput",
        "",
        f"Spawn to parsed report, ms, min / median / max over {RUNS} runs (ratio: median against the "
        "unsandboxed harness measured in the same command).",
        "",
        "| workload | unsandboxed | process mode | bwrap |",
        "|---|---|---|---|",
        *rows,
        "",
        f"| grading throughput: {len(CODE)} reference solutions, {THREADS} threads, {THROUGHPUT_RUNS} runs "
        "| submissions/s |",
        "|---|---|",
        *(f"| {name} | {spread(values)} |" for name, values in speeds.items()),
        "",
    ])


if __name__ == "__main__":
    print(report())
