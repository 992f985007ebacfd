"""Page throughput and latency of the candidate pages at 1,000, 10,000 and 100,000 questions, against
two references measured in the same run (the report's text explains the method).

Run: ``.venv/bin/python -m bench.pages`` (``make bench`` runs every benchmark). Needs ``wrk``
(Debian: ``apt-get install -y wrk``) and ``taskset``; nothing is installed for you. BENCH_QUICK=1
is a smoke run (1 run, 3 s loads); BENCH_RUNS, BENCH_SCALES (e.g. ``1000,10000``) and the
durations in bench/load.py can be set one by one.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common import QUICK, BenchSite, free_port, knob, make_site, process_tree, rss_mib, stop_server, wait_healthy
from bench.load import (
    CLIENT_CPU,
    LOGIN_CONCURRENCY,
    MIN_CONNECTIONS,
    RATE_SECONDS,
    SERVER_CPU,
    SHORTFALL,
    WARMUP_SECONDS,
    WRK_CONNECTIONS,
    WRK_SECONDS,
    WRK_THREADS,
    connections_for,
    fetch,
    listed,
    login,
    logins,
    open_loop,
    require_wrk,
    serve,
    settle,
    wrk,
)
from bench.page_data import EMAIL, PASSWORD, add_submissions, check_search_index, populate, published, snapshot

SCALES = tuple(int(n) for n in os.environ.get("BENCH_SCALES", "1000,10000,100000").split(","))
HEADLINE = 10_000 if 10_000 in SCALES else SCALES[len(SCALES) // 2]  # where ratios and latency are judged
RUNS = knob("BENCH_RUNS", 3, quick=1)
RATE_FRACTION = 0.5  # offered rate for the latency runs, as a fraction of a saturated rate
TARGET_QUESTIONS, TARGET_PAGES, TARGET_GROWTH, TARGET_P99 = 0.2, 0.3, 1.2, 2.0
PAGES = {"bare": "reference: bare 20-row page", "same-page": "reference: same-page `/questions`",
         "questions": "ours: `/questions` (candidate, page 1)", "question": "ours: `/questions/{slug}`",
         "submission": "ours: `/submissions/{id}` (own, graded)"}
OURS = ("questions", "question", "submission")
TOTAL = re.compile(r'class="result-count">\s*(\d[\d,]*)')


@dataclass
class Scale:
    """One bank size: its copy of the site and the servers that serve it."""

    size: int
    site: BenchSite
    slug: str
    submission: int
    ours_url: str = field(default_factory=lambda: f"http://127.0.0.1:{free_port()}")
    ref_url: str = field(default_factory=lambda: f"http://127.0.0.1:{free_port()}")
    servers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, page: str) -> str:
        return {"bare": f"{self.ref_url}/bare/questions", "same-page": f"{self.ref_url}/questions",
                "questions": f"{self.ours_url}/questions", "question": f"{self.ours_url}/questions/{self.slug}",
                "submission": f"{self.ours_url}/submissions/{self.submission}"}[page]

    def server(self, page: str) -> tuple[str, int]:
        name = "ours" if page in OURS else "reference"
        return (self.ours_url if name == "ours" else self.ref_url), self.servers[name].pid


def start_ours(site: BenchSite, url: str, *, workers: int = 1, cpu: str | None = SERVER_CPU) -> subprocess.Popen[bytes]:
    return serve(site, "server.log", ["webapp.cli", "serve", "--port", url.rsplit(":", 1)[1],
                                      "--workers", str(workers)], cpu=cpu)


def start(scale: Scale, checks: dict[int, Any]) -> None:
    """Ours first (the references open the database read-only), then the references with our page 1."""
    scale.servers["ours"] = start_ours(scale.site, scale.ours_url)
    wait_healthy(scale.ours_url, timeout=120)
    cookie = login(scale.ours_url)
    html = fetch(scale.url("questions"), cookie)
    slugs, shown = listed(html), TOTAL.search(html)
    held = published(scale.site)
    if len(slugs) != 20 or (shown and int(shown.group(1).replace(",", "")) != held):
        raise RuntimeError(f"{scale.size}: /questions lists {len(slugs)} questions and shows a total of "
                           f"{shown.group(1) if shown else '?'}; the database holds {held} published")
    scale.servers["reference"] = serve(scale.site, "reference.log", [
        "bench.reference_app", "--db", scale.site.database_url.removeprefix("sqlite:///"), "--slugs", " ".join(slugs),
        "--port", scale.ref_url.rsplit(":", 1)[1]])
    wait_healthy(scale.ref_url, timeout=120)
    pages = {page: fetch(scale.url(page), cookie if page in OURS else "") for page in PAGES}
    if listed(pages["bare"]) != slugs:
        raise RuntimeError(f"{scale.size}: the bare page does not list our page 1")
    checks[scale.size] = {"bytes": {page: len(html.encode()) for page, html in pages.items()},
                          "same rows": listed(pages["same-page"]) == slugs}


def measure() -> dict[str, Any]:
    require_wrk()
    started = time.monotonic()
    site = make_site(grader_concurrency="0")
    scales: dict[int, Scale] = {}
    results: dict[str, Any] = {"runs": {}, "checks": {}, "rss": {}, "connections": {}}
    runs = results["runs"]

    def record(key: Any, values: dict[str, float]) -> None:
        for name, value in values.items():
            runs.setdefault(key, {}).setdefault(name, []).append(value)

    try:
        site.cli("create-user", "--email", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
        submission, have, slug = add_submissions(site), 0, ""
        results["bank"] = published(site)
        for size in SCALES:  # grown in steps; each size is a copy, so all are served side by side
            first_text = populate(site, size - have, start=have)
            slug, have = slug or first_text, size  # the same question at every size
            check_search_index(site)
            scales[size] = Scale(size, snapshot(site, f"scale-{size}"), slug, submission)
        results["setup"] = time.monotonic() - started
        for scale in scales.values():
            start(scale, results["checks"])
        conns = results["connections"]
        for scale in scales.values():  # warm-up (imports, template compilation, caches), then wrk's connections
            for page in PAGES:
                cookie = login(scale.ours_url) if page in OURS else ""
                conns[(scale.size, page)] = connections_for(scale.url(page), cookie)
                wrk(scale.url(page), cookie=cookie, seconds=WARMUP_SECONDS, connections=conns[(scale.size, page)])
                settle(*scale.server(page))
        for _ in range(RUNS):  # sizes and pages interleaved, so drift in background load hits all alike
            for scale in scales.values():
                for page in PAGES:
                    record((scale.size, page), wrk(scale.url(page), connections=conns[(scale.size, page)],
                                                   cookie=login(scale.ours_url) if page in OURS else ""))
                    settle(*scale.server(page))
        for scale in scales.values():
            results["rss"][scale.size] = {name: rss_mib(server.pid) for name, server in scale.servers.items()}
        head = scales[HEADLINE]
        rates = results["rates"] = {
            "same-page": max(1, round(RATE_FRACTION * statistics.median(runs[(HEADLINE, "same-page")]["rps"]))),
            "questions": max(1, round(RATE_FRACTION * statistics.median(runs[(HEADLINE, "questions")]["rps"])))}
        for _ in range(RUNS):
            for rate_of, page in (("same-page", "same-page"), ("same-page", "questions"),
                                  ("questions", "bare"), ("questions", "questions")):
                record((page, rate_of), open_loop(head.url(page), rates[rate_of], login_first=page in OURS))
                settle(*head.server(page))
        for _ in range(RUNS):
            record("login", logins(head.ours_url))
            settle(*head.server("questions"))
        results["rss_end"] = {name: rss_mib(server.pid) for name, server in head.servers.items()}
        for scale in scales.values():
            for server in scale.servers.values():
                stop_server(server)
        results["workers"] = two_workers(head, record, conns)
    finally:
        for scale in scales.values():
            for server in scale.servers.values():
                if server.poll() is None:
                    stop_server(server)
        shutil.rmtree(site.data_dir.parent, ignore_errors=True)  # ~3.5 GB with 100k questions
    results["seconds"] = time.monotonic() - started
    return results


def two_workers(scale: Scale, record: Any, conns: dict[Any, int]) -> dict[str, Any]:
    """``rehearse serve --workers 2`` on the headline size, unpinned, with wrk unpinned beside it."""
    url = f"http://127.0.0.1:{free_port()}"
    server = start_ours(scale.site, url, workers=2, cpu=None)
    try:
        wait_healthy(url, timeout=120)
        pages = {"questions": f"{url}/questions", "question": f"{url}/questions/{scale.slug}"}
        for page_url in pages.values():
            fetch(page_url, login(url))
            wrk(page_url, cookie=login(url), seconds=WARMUP_SECONDS, cpu=None)
            settle(url, server.pid)
        for _ in range(RUNS):
            for page, page_url in pages.items():
                record(("workers", page), wrk(page_url, cookie=login(url), cpu=None,
                                              connections=conns[(scale.size, page)]))
                settle(url, server.pid)
        workers = [pid for pid in process_tree(server.pid)[1:]
                   if b"spawn_main" in open(f"/proc/{pid}/cmdline", "rb").read()]
        return {"rss": [rss_mib(pid) for pid in workers], "supervisor": rss_mib(server.pid)}
    finally:
        stop_server(server)


# --- the report ----------------------------------------------------------------------------------

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


def report() -> str:
    return format_report(measure())


if __name__ == "__main__":
    print(report())
