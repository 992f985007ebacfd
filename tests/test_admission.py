"""Admission control: no more than the limit inside the app at once; the rest wait, none is dropped."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
from starlette.types import Receive, Scope, Send

from webapp.core.config import Settings
from webapp.main import create_app
from webapp.web.admission import AdmissionLimitMiddleware


class SlowApp:
    """Holds each request until released, counting how many are inside at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        try:
            await self.release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": scope["path"].encode()})
        finally:
            self.inside -= 1


async def _drive(paths: list[str], *, limit: int, inside: int) -> tuple[SlowApp, list[httpx.Response]]:
    """Send every request at once, wait (with a deadline) until ``inside`` of them are in the app, release them."""
    inner = SlowApp()
    transport = httpx.ASGITransport(app=AdmissionLimitMiddleware(inner, limit=limit))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        requests = [asyncio.create_task(client.get(path)) for path in paths]
        deadline = asyncio.get_running_loop().time() + 5
        while inner.inside < inside:
            assert asyncio.get_running_loop().time() < deadline, f"only {inner.inside} requests reached the app"
            await asyncio.sleep(0.01)
        inner.release.set()
        responses = await asyncio.gather(*requests)
    return inner, responses


def _run(coroutine):
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps a loop running in this one."""
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, coroutine).result()


def test_requests_beyond_the_limit_wait_their_turn() -> None:
    paths = [f"/page/{n}" for n in range(12)]
    inner, responses = _run(_drive(paths, limit=3, inside=3))
    assert inner.most_inside == 3
    assert [r.text for r in responses] == paths and {r.status_code for r in responses} == {200}


def test_static_files_are_not_admitted_through_the_limit() -> None:
    paths = [f"/static/file{n}.css" for n in range(6)]
    inner, responses = _run(_drive(paths, limit=2, inside=6))
    assert inner.most_inside == 6  # files hold no thread and no connection
    assert len(responses) == 6


def test_the_pool_covers_every_admitted_request_and_the_graders(tmp_path) -> None:
    settings = Settings(env="test", data_dir=tmp_path, secret_key="k", max_concurrent_requests=16,
                        grader_concurrency=2)
    app = create_app(settings)
    assert app.state.db.engine.pool.size() >= 16 + 2


def test_one_limit_per_event_loop_so_loops_in_other_threads_never_hang() -> None:
    # Starlette's TestClient gives each request an event loop of its own, in its own thread.
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for _ in range(20):
            await asyncio.sleep(0)  # let the other requests of this loop queue at the limit
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    shared = AdmissionLimitMiddleware(app, limit=2)

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=shared)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.gather(*(client.get(f"/page/{n}") for n in range(6)))
        return [r.status_code for r in responses]

    results: list[list[int]] = []
    # Daemon threads: a lost wake-up must fail this test, not hang the test run.
    threads = [threading.Thread(target=lambda: results.append(asyncio.run(burst())), daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert results == [[200] * 6] * 8
