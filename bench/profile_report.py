"""The report of bench/request_profile.py: the per-request table and the top of each profile."""

from __future__ import annotations

import pstats
import statistics
from pathlib import Path
from typing import Any

from bench.common import knob, spread

REQUESTS = knob("BENCH_PROFILE_REQUESTS", 400, quick=50)  # per page and round
ROUNDS = knob("BENCH_PROFILE_ROUNDS", 5, quick=2)
WARMUP = knob("BENCH_PROFILE_WARMUP", 100, quick=20)
PROFILED = knob("BENCH_PROFILE_PROFILED", 300, quick=40)  # per profiled page
ANSWERS = 12
TOP = 25

# The driver and the event loop's plumbing wrap every request: left out of the tables.
_PLUMBING = ("bench/request_profile.py", "asyncio/", "_contextvars.Context", "runners.py")


ROOT = str(Path(__file__).resolve().parents[1]) + "/"


def _where(file: str, line: int, name: str) -> str:
    """A profile entry as ``path:line function``, paths from the project or site-packages."""
    if file == "~":  # a built-in
        return name
    short = file.removeprefix(ROOT).split("site-packages/")[-1] if "site-packages/" in file or file.startswith(ROOT) \
        else file.rsplit("/", 1)[-1]
    return f"{short}:{line} {name}"


def top_rows(stats: pstats.Stats, key: str, requests: int) -> list[str]:
    """The TOP functions by ``key``, in µs per request: "cumulative" among the project's own
    functions (webapp/ and templates/: the middleware and framework layers above them each
    cumulate the whole request), "own" among all."""
    entries = stats.stats  # type: ignore[attr-defined]  # {(file, line, name): (cc, nc, own, cumulative, callers)}
    index = 3 if key == "cumulative" else 2
    project = (ROOT + "webapp/", ROOT + "templates/")
    ordered = sorted(((where, value) for where, value in entries.items()
                      if not any(mark in f"{where[0]}{where[2]}" for mark in _PLUMBING)
                      and (key != "cumulative" or where[0].startswith(project))),
                     key=lambda item: item[1][index], reverse=True)
    return [f"| `{_where(*where)}` | {calls / requests:.1f} | {own / requests * 1e6:.0f} | "
            f"{cumulative / requests * 1e6:.0f} |"
            for where, (_, calls, own, cumulative, _) in ordered[:TOP]]


def profiled_total(stats: pstats.Stats, requests: int) -> float:
    """µs per request under the profiler: the own time of every function but the plumbing."""
    entries = stats.stats  # type: ignore[attr-defined]
    return sum(value[2] for where, value in entries.items()
               if not any(mark in f"{where[0]}{where[2]}" for mark in _PLUMBING)) / requests * 1e6


LABELS = {"bare": "bare Starlette: 20 rows from SQLite, precompiled template, no middleware",
          "question": "`GET /questions/{slug}` (candidate)", "submission": "`GET /submissions/{id}` (own, graded)",
          "questions": "`GET /questions` (candidate, page 1)"}


def format_report(r: dict[str, Any]) -> str:
    bare = statistics.median(r["cpu"]["bare"])
    rows = [f"| {LABELS[name]} | {spread(r['cpu'][name])} | {spread(r['wall'][name])} | "
            f"{bare / statistics.median(r['cpu'][name]):.2f}× |" for name in LABELS]
    lines = [
        "## Where a request's time goes",
        "",
        "`bench/request_profile.py`: the real app (`create_app`, lifespan run, SQLite, the default bank, a signed-in "
        f"candidate with {ANSWERS} graded answers) called in-process with ASGI messages, one request at a time, so "
        "the figures are the app's own work without HTTP parsing or a client; the bare page is a Starlette route in "
        f"the same process. {ROUNDS} rounds of {REQUESTS} requests per page, interleaved; µs per request as min / "
        "median / max of the rounds. CPU is `process_time` (every thread). A server adds its HTTP work to every page "
        "alike (uvicorn: some 60–100 µs a request), so ratios over HTTP are closer to 1 than these.",
        "",
        "| page | CPU µs / request | wall µs / request | bare page ÷ this (CPU) |",
        "|---|---|---|---|",
        *rows,
        "",
    ]
    for name in ("question", "submission", "questions"):
        stats = r["profiles"][name]
        header = ["| function | calls / request | own µs / request | cumulative µs / request |", "|---|---|---|---|"]
        lines += [
            f"Profile of {LABELS[name]}: {PROFILED} requests under cProfile "
            f"({profiled_total(stats, PROFILED):.0f} µs a request with it), the worker-thread calls run inline "
            "(one thread, so cumulative times are whole; cProfile's own cost inflates code that makes many small "
            "calls, so read the rows against each other; a resumed coroutine counts as a call). The driver and the "
            "event loop are left out. By cumulative time, the project's functions (webapp/, templates/):",
            "",
            *header,
            *top_rows(stats, "cumulative", PROFILED),
            "",
            "By own time, all functions:",
            "",
            *header,
            *top_rows(stats, "own", PROFILED),
            "",
        ]
    lines += [f"Whole benchmark: {r['seconds']:.0f} s; load average {r['load']:.2f} at its start (2 cores).", ""]
    return "\n".join(lines)
