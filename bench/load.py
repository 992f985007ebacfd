"""Load generators and clients for the page benchmark, each pinned to the client CPU (the servers
have the other; ``serve`` starts one there).

- ``wrk``: saturation (Debian's wrk; 2 threads, 32 connections; unpinned when asked, to load both cores).
- ``open_loop``: a fixed offered rate, asyncio + httpx2 in a child process: request *i* is sent at
  start + *i*/rate whatever the earlier responses did, and timed from that moment, so coordinated
  omission is avoided (Debian has neither wrk2 nor oha).
- ``logins``: closed-loop clients that fetch /login for a token and POST it (the POST is timed).
- ``login``, ``fetch``, ``listed``, ``settle``: a session cookie, a page checked to answer 200, the
  questions a list shows, waiting for a server to be idle again.

The children run as ``python -m bench.load open-loop|logins …`` and print one JSON object.
Durations come from the environment (BENCH_WRK_SECONDS, BENCH_RATE_SECONDS, BENCH_LOGIN_SECONDS,
BENCH_WARMUP_SECONDS), shorter with BENCH_QUICK=1.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import threading
import time

import httpx2 as httpx

from bench.common import BenchSite, knob, percentile, wait_healthy, wait_idle
from bench.page_data import EMAIL, PASSWORD

WRK_THREADS, WRK_CONNECTIONS = 2, 32
# wrk counts completed requests only: the ones in flight when it stops (up to one per connection)
# are lost, and on a slow page 32 connections all finish together, seconds apart. So a page gets
# fewer connections, down to 2 (still enough to keep one core busy), when 32 would be more than
# SHORTFALL of the requests a run completes.
MIN_CONNECTIONS, SHORTFALL = 2, 0.05
WRK_SECONDS = knob("BENCH_WRK_SECONDS", 10, quick=3)
WRK_TIMEOUT = 30  # s: on a slow page, a request can wait behind the others for seconds
WARMUP_SECONDS = knob("BENCH_WARMUP_SECONDS", 2, quick=1)
RATE_SECONDS = knob("BENCH_RATE_SECONDS", 10, quick=3)
LOGIN_SECONDS, LOGIN_CONCURRENCY = knob("BENCH_LOGIN_SECONDS", 6, quick=2), 4
SERVER_CPU, CLIENT_CPU = "0", "1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


LIST = re.compile(r'<ul class="question-list">(.*?)</ul>', re.S)
LINK = re.compile(r'href="/questions/([A-Za-z0-9_-]+)"')


def serve(site: BenchSite, log: str, command: list[str], *, cpu: str | None = SERVER_CPU) -> subprocess.Popen[bytes]:
    """A server process for the site (``python -m …``), pinned to ``cpu`` unless it is None."""
    command = [sys.executable, "-m", *command]
    return subprocess.Popen(pinned(cpu, *command) if cpu else command, env=site.env,
                            stdout=(site.data_dir / log).open("ab"), stderr=subprocess.STDOUT)


def settle(url: str, pid: int) -> None:
    """Wait until the server answers and is idle: requests wrk abandoned at the end of a run are
    still being served for a while, and would slow the next run down."""
    wait_healthy(url, timeout=120)
    wait_idle(pid)


def login(url: str) -> str:
    """A fresh session cookie for the candidate (fresh, so it needs no refresh during a run)."""
    with httpx.Client(base_url=url, timeout=120) as client:
        token = _found(TOKEN.search(client.get("/login").text), "csrf token").group(1)
        response = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
        if response.status_code != 303:
            raise RuntimeError(f"login failed: {response.status_code}")
        return f"rehearse_session={client.cookies['rehearse_session']}"


def fetch(url: str, cookie: str = "") -> str:
    """The page, failing loudly unless it answers 200 (wrk counts a redirect to /login as a success)."""
    response = httpx.get(url, headers={"Cookie": cookie} if cookie else {}, timeout=120)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response.text


def listed(html: str) -> list[str]:
    """The slugs a question list shows, in order."""
    found = LIST.search(html)
    return list(dict.fromkeys(LINK.findall(found.group(1) if found else html)))


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("bench.pages needs wrk, the HTTP load generator: install it with "
                           "`apt-get install -y wrk` (Debian/Ubuntu) and run the benchmark again.")
    if shutil.which("taskset") is None:
        raise RuntimeError("bench.pages needs taskset (util-linux) to pin server and load generator to separate CPUs.")
    return path


def pinned(cpu: str, *command: str) -> list[str]:
    return ["taskset", "-c", cpu, *command]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _found(match: re.Match[str] | None, what: str) -> re.Match[str]:
    if match is None:
        raise RuntimeError(f"unexpected output: no {what}")
    return match


def _ms(text: str) -> float:
    number, unit = _found(re.fullmatch(r"([\d.]+)(us|ms|s|m)", text), f"duration in {text!r}").groups()
    return float(number) * _UNITS[unit]


def connections_for(url: str, cookie: str = "", seconds: int = WRK_SECONDS) -> int:
    """wrk's connection count for a page, from the time it takes alone (best of 3; the first warms it)."""
    with httpx.Client(headers={"Cookie": cookie} if cookie else {}, timeout=120) as client:
        timings = []
        for _ in range(4):
            started = time.perf_counter()
            client.get(url)
            timings.append(time.perf_counter() - started)
    completed = seconds / min(timings[1:])  # what a run would complete, about
    return max(MIN_CONNECTIONS, min(WRK_CONNECTIONS, int(SHORTFALL * completed)))


def wrk(url: str, *, cookie: str = "", seconds: int = WRK_SECONDS, cpu: str | None = CLIENT_CPU,
        connections: int = WRK_CONNECTIONS) -> dict[str, float]:
    """One saturation run; ``cpu=None`` leaves wrk unpinned (it then shares both cores with the server)."""
    command = [require_wrk(), f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", f"{WRK_TIMEOUT}s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(url)
    output = subprocess.run(pinned(cpu, *command) if cpu else command, capture_output=True, text=True,
                            check=True).stdout
    if "Latency Distribution" not in output:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(_found(re.search(r"Requests/sec:\s+([\d.]+)", output), "Requests/sec").group(1)),
            "p50": _ms(_found(re.search(r"^\s+50%\s+(\S+)", output, re.M), "p50").group(1)),
            "p99": _ms(_found(re.search(r"^\s+99%\s+(\S+)", output, re.M), "p99").group(1)),
            "errors": float(errors + (int(bad.group(1)) if bad else 0))}


def _child(*args: str) -> dict[str, float]:
    """Run a client in a child process pinned to the client CPU; it prints one JSON object."""
    done = subprocess.run(pinned(CLIENT_CPU, sys.executable, "-m", "bench.load", *args), capture_output=True,
                          text=True, check=True, timeout=300)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def open_loop(url: str, rate: float, *, login_first: bool, seconds: int = RATE_SECONDS) -> dict[str, float]:
    return _child("open-loop", url, str(rate), str(seconds), "1" if login_first else "0")


def logins(url: str) -> dict[str, float]:
    return _child("logins", url, str(LOGIN_SECONDS), str(LOGIN_CONCURRENCY))


async def _open_loop(url: str, rate: float, seconds: int, login_first: bool) -> dict[str, float]:
    """Open loop: request i is due at start + i/rate whatever happened before; latency counts from then."""
    base, path = url.split("/", 3)[:3], "/" + url.split("/", 3)[3]
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url="/".join(base), limits=limits, timeout=60) as client:
        if login_first:  # the client keeps the session cookie up to date, as a browser would
            token = _found(TOKEN.search((await client.get("/login")).text), "csrf token").group(1)
            await client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
        for _ in range(20):  # open some connections before the clock starts
            await client.get(path)
        clock = time.perf_counter  # uvloop's loop.time() only has millisecond resolution
        latencies: list[float] = []
        lags: list[float] = []
        errors = 0

        async def one(due: float) -> None:
            nonlocal errors
            lags.append(clock() - due)
            try:
                response = await client.get(path)
                errors += response.status_code != 200
            except httpx.HTTPError:
                errors += 1
            latencies.append((clock() - due) * 1000)

        start = clock() + 0.05
        tasks = []
        for n in range(int(rate * seconds)):
            due = start + n / rate
            if (delay := due - clock()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
        return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "errors": float(errors),
                "achieved": len(latencies) / (clock() - start), "lag_p99": percentile(lags, 99) * 1000}


def _logins(url: str, seconds: int, concurrency: int) -> dict[str, float]:
    """Closed loop: each client fetches /login (new cookie, new token) then POSTs it; the POST is timed."""
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds

    def client_loop() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:  # one connection; a new cookie jar each time
            while time.monotonic() < deadline:
                client.cookies.clear()
                token = _found(TOKEN.search(client.get("/login").text), "csrf token").group(1)
                started = time.perf_counter()
                response = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
                latencies.append((time.perf_counter() - started) * 1000)
                errors[0] += response.status_code != 303

    began = time.monotonic()
    threads = [threading.Thread(target=client_loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"rps": len(latencies) / (time.monotonic() - began), "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99), "errors": float(errors[0])}


def main(argv: list[str]) -> None:
    if argv[:1] == ["open-loop"]:
        url, rate, seconds, login_first = argv[1:5]
        try:
            import uvloop
            uvloop.install()
        except ImportError:
            pass
        print(json.dumps(asyncio.run(_open_loop(url, float(rate), int(seconds), login_first == "1"))))
    elif argv[:1] == ["logins"]:
        print(json.dumps(_logins(argv[1], int(argv[2]), int(argv[3]))))
    else:
        sys.exit("usage: python -m bench.load open-loop URL RATE SECONDS LOGIN_FIRST | logins URL SECONDS CONCURRENCY")


if __name__ == "__main__":
    main(sys.argv[1:])
