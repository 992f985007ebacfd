"""What the pages benchmark (bench/pages.py) measures at which sizes, its targets, and the report it
writes into docs/benchmarks.md from one run's figures."""

from __future__ import annotations

import os
import statistics
from typing import Any

from bench.common import QUICK, knob
from bench.load import (
    CLIENT_CPU,
    LOGIN_CONCURRENCY,
    MIN_CONNECTIONS,
    RATE_SECONDS,
    SERVER_CPU,
    SHORTFALL,
    WRK_CONNECTIONS,
    WRK_SECONDS,
    WRK_THREADS,
)

SCALES = tuple(int(n) for n in os.environ.get("BENCH_SCALES", "1000,10000,100000").split(","))
HEADLINE = 10_000 if 10_000 in SCALES else SCALES[len(SCALES) // 2]  # where ratios and latency are judged
RUNS = knob("BENCH_RUNS", 3, quick=1)
RATE_FRACTION = 0.5  # offered rate for the latency runs, as a fraction of a saturated rate
TARGET_QUESTIONS, TARGET_PAGES, TARGET_GROWTH, TARGET_P99 = 0.2, 0.3, 1.2, 2.0
PAGES = {"bare": "reference: bare 20-row page", "same-page": "reference: same-page `/questions`",
         "questions": "ours: `/questions` (candidate, page 1)", "question": "ours: `/questions/{slug}`",
         "submission": "ours: `/submissions/{id}` (own, graded)"}
OURS = ("questions", "question", "submission")


def _k(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else f"{size:,}"


def _spread(values: list[float]) -> str:
    """min / median / max, to three significant figures (rates run from 1 to several thousand req/s)."""
    return " / ".join(f"{v:.3g}" if v < 100 else f"{v:.0f}" for v in (min(values), statistics.median(values),
                                                                       max(values)))


def _div(a: float, b: float) -> float:
    return a / b if b else float("nan")  # a run that completed nothing fails every target it enters


def _worst(values: list[float]) -> float:
    return float("nan") if any(v != v for v in values) else max(values)  # max() is order-dependent with NaN


def format_report(r: dict[str, Any]) -> str:
    runs, rates, conns, sizes = r["runs"], r["rates"], r["connections"], list(SCALES)
    steps = list(zip(sizes, sizes[1:], strict=False))

    def med(key: Any, name: str = "rps") -> float:
        return float(statistics.median(runs[key][name]))

    def ratio(page: str, reference: str, size: int = HEADLINE) -> float:
        return _div(med((size, page)), med((size, reference)))

    def growth(page: str) -> list[float]:  # cost = 1 / throughput: cost(10×) / cost = throughput / throughput(10×)
        return [_div(med((a, page)), med((b, page))) for a, b in steps]

    def row(key: Any, label: str, names: tuple[str, ...]) -> str:
        return f"| {label} | " + " | ".join(_spread(runs[key][n]) for n in names) + " |"

    def slow(size: int, page: str) -> str:
        return f" (c{conns[(size, page)]})" if conns[(size, page)] != WRK_CONNECTIONS else ""

    def ratios(page: str, reference: str) -> str:
        return " / ".join(f"{ratio(page, reference, s):#.3g}" for s in sizes)

    saturation = [
        f"| {label} | " + " | ".join(_spread(runs[(s, page)]["rps"]) + slow(s, page) for s in sizes)
        + f" | {ratios(page, 'bare') if page != 'bare' else '–'}"
        + f" | {ratios(page, 'same-page') if page == 'questions' else '–'}"
        + f" | {' / '.join(f'{g:.2f}×' for g in growth(page)) or '–'}"
        + f" | {sum(sum(runs[(s, page)]['errors']) for s in sizes):.0f} |" for page, label in PAGES.items()]
    detail = [row((HEADLINE, page), label, ("rps", "p50", "p99"))[:-1]
              + f"| {r['checks'][HEADLINE]['bytes'][page] / 1024:.1f} |" for page, label in PAGES.items()]
    fixed = (("same-page", "same-page"), ("same-page", "questions"), ("questions", "bare"), ("questions", "questions"))
    whose = {"same-page": "the same-page reference", "questions": "ours"}
    at_rate = [row((page, of), f"{rates[of]} req/s (50 % of {whose[of]}) | {PAGES[page]}",
                   ("p50", "p99", "achieved", "lag_p99", "errors")) for of, page in fixed]
    p99 = _div(med(("questions", "same-page"), "p99"), med(("same-page", "same-page"), "p99"))
    targets = [*[(f"`{path}` ≥ {target}× the bare page at {HEADLINE:,} questions", ratio(page, "bare"),
                  ratio(page, "bare") >= target)
                 for page, path, target in (("questions", "/questions", TARGET_QUESTIONS),
                                            ("question", "/questions/{slug}", TARGET_PAGES),
                                            ("submission", "/submissions/{id}", TARGET_PAGES))],
               *[(f"`{path}` cost growth ≤ {TARGET_GROWTH}× per 10× questions (worst step)", _worst(growth(page)),
                  _worst(growth(page)) <= TARGET_GROWTH)
                 for page, path in (("questions", "/questions"), ("question", "/questions/{slug}"),
                                    ("submission", "/submissions/{id}")) if steps],
               (f"`/questions` p99 at {rates['same-page']} req/s (50 % of the same-page reference's rate) ≤ "
                f"{TARGET_P99:.0f}× the reference's p99", p99, p99 <= TARGET_P99)]
    same_rows = ", ".join(f"{s:,}: {'yes' if r['checks'][s]['same rows'] else 'no'}" for s in sizes)
    step_head = " / ".join(f"{_k(a)}→{_k(b)}" for a, b in steps) or "–"
    return "\n".join([
        "## Pages: throughput and latency against a bare Starlette reference",
        "",
        *([f"**Quick run** (BENCH_QUICK=1: {RUNS} run, {WRK_SECONDS} s loads): a smoke test of the benchmark, "
           "not figures to quote.", ""] if QUICK else []),
        f"One site on SQLite: the default bank ({r['bank']} published questions), one candidate with graded answers, "
        f"then {' / '.join(f'{s:,}' for s in sizes)} generated published questions over the 22 topics, added in bulk "
        "through SQL that fires the migrations' triggers (full-text index, catalogue version; FTS5's integrity check "
        "after each step, and our page's total checked against the database) and copied at each size, so all sizes "
        f"are served side by side, each by its own processes (set-up {r['setup']:.0f} s). At each size ours "
        "(`rehearse serve`, uvicorn, 1 worker) and the references are pinned with `taskset` to CPU "
        f"{SERVER_CPU}; the load generators run on CPU {CLIENT_CPU}. The two "
        "references are one bare Starlette app (`bench/reference_app.py`: no middleware, sessions or ORM; raw "
        "`sqlite3`, a read-only connection per thread; the template, with our list page's markup, compiled once):",
        "",
        "- **bare 20-row page**, the ceiling of the stack: the 20 questions of our page 1 (the same questions, topic "
        "and tags; checked at each size), read by primary key; their ids, and the counts per topic, total and tag "
        "list the page also shows, are read once at start-up. Nothing else per request.",
        "- **same-page reference**: what a list page without a cache does per request: an ORDER BY over every "
        "published question for its 20 rows, the count per topic, the total and the tag list. Its page 1 lists the "
        f"same questions as ours: {same_rows}.",
        "",
        f"Saturation: `wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s`, a fresh session cookie per run for "
        "our pages (a candidate, signed in). wrk counts completed requests only, so the ones in flight when it stops "
        "are lost, up to one per connection: a slow page gets fewer connections (*cN*: N of them, at least "
        f"{MIN_CONNECTIONS}, still enough to keep one core busy) so that they are at most {SHORTFALL:.0%} of what a "
        "run completes, going by the time the page takes alone; below 100 requests per run (the same-page reference "
        f"at 100k) that is still several %. {RUNS} run{'s' if RUNS > 1 else ''}, each loading every size and page "
        "in turn "
        "(interleaved, so drift in the load from elsewhere hits all alike), the server left to go idle between loads; "
        "figures are min / median / max, ratios are of medians. Cost is 1 / throughput, so the *cost growth* from one "
        "size to the next (10× the questions) is throughput there / throughput at 10×: 1.00× means the page does not "
        "notice the bank's size; the bare page's own growth shows how much is noise. Other work was running on this "
        "machine, so expect noise.",
        "",
        f"| saturation, requests/s | {' | '.join(f'{s:,} q.' for s in sizes)} | × bare | × same-page | "
        f"cost growth {step_head} | errors |",
        "|---|" + "---|" * (len(sizes) + 4),
        *saturation,
        "",
        f"| at {HEADLINE:,} questions (wrk) | requests/s | p50 ms | p99 ms | page KiB |",
        "|---|---|---|---|---|",
        *detail,
        row("login", f"ours: `POST /login` (GET /login for a token first; {LOGIN_CONCURRENCY} clients, closed loop, "
            f"argon2id dominates by design; {sum(runs['login']['errors']):.0f} errors)", ("rps", "p50", "p99"))
        + " – |",
        "",
        f"Latency at a fixed offered rate, {HEADLINE:,} questions, {RATE_SECONDS} s per run: an open-loop asyncio + "
        "httpx2 generator (Debian has neither wrk2 nor oha) sends request *i* at start + *i*/rate whatever the "
        "earlier responses and measures from that scheduled time, so coordinated omission is avoided. The target's "
        "rate is 50 % of the same-page reference's saturated rate (the issue's wording); then, with no target, ours "
        "against the bare page at 50 % of our own saturated `/questions` rate.",
        "",
        "| offered rate | page | p50 ms | p99 ms | achieved req/s | generator send lag p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
        *at_rate,
        "",
        "| resident memory (VmRSS), MiB, after the saturation runs | ours (1 worker) | references (one process) |",
        "|---|---|---|",
        *[f"| {s:,} questions | {r['rss'][s]['ours']:.0f} | {r['rss'][s]['reference']:.0f} |" for s in sizes],
        f"| {HEADLINE:,} questions, after the fixed-rate and log-in runs too | {r['rss_end']['ours']:.0f} | "
        f"{r['rss_end']['reference']:.0f} |",
        "",
        f"`rehearse serve --workers 2` at {HEADLINE:,} questions, once the servers above were stopped: unpinned, on "
        "both cores, **with wrk running unpinned alongside** (taking its share of the same two cores), so this is "
        "what a 2-core machine serves with its load generator on it. Same wrk settings and runs. Resident memory "
        f"per worker: {', '.join(f'{m:.0f}' for m in r['workers']['rss'])} MiB (uvicorn's supervisor "
        f"{r['workers']['supervisor']:.0f} MiB).",
        "",
        "| `--workers 2`, both cores | requests/s | × 1 worker pinned (above) |",
        "|---|---|---|",
        *[f"| {PAGES[page]} | {_spread(runs[('workers', page)]['rps'])} | "
          f"{_div(med(('workers', page)), med((HEADLINE, page))):.2f}× |" for page in ("questions", "question")],
        "",
        "| target | measured | |",
        "|---|---|---|",
        *[f"| {label} | {value:#.3g}× | {'**met**' if ok else '**not met**'} |" for label, value, ok in targets],
        "",
        "What the targets mean: × bare is how much of the stack's ceiling a page reaches (the rest is what the app "
        "does per request: session, CSRF, headers, admission, navigation, the page's own queries); cost growth is "
        "how much dearer a page gets with 10× the questions; the p99 target asks that at a moderate load our tail "
        f"latency stays within {TARGET_P99:.0f}× the same-page reference's. Whole benchmark: "
        f"{r['seconds'] / 60:.1f} min.",
        "",
    ])
