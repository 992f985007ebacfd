"""Page throughput and latency of the candidate pages at 1,000, 10,000 and 100,000 questions, against
two references measured in the same run (the report's text explains the method).

Run: ``.venv/bin/python -m bench.pages`` (``make bench`` runs every benchmark). Needs ``wrk``
(Debian: ``apt-get install -y wrk``) and ``taskset``; nothing is installed for you. BENCH_QUICK=1
is a smoke run (1 run, 3 s loads); BENCH_RUNS, BENCH_SCALES (e.g. ``1000,10000``) and the
durations in bench/load.py can be set one by one.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common import BenchSite, free_port, make_site, process_tree, rss_mib, stop_server, wait_healthy
from bench.load import (
    SERVER_CPU,
    WARMUP_SECONDS,
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
from bench.pages_report import HEADLINE, OURS, PAGES, RATE_FRACTION, RUNS, SCALES, format_report

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


def report() -> str:
    return format_report(measure())


if __name__ == "__main__":
    print(report())
