"""Browser tests: Debian's Chromium driven by Playwright against a real uvicorn server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.helpers import wait_for

CHROMIUM = os.environ.get("REHEARSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
    # Chromium benchmarks the machine for its on-device model 3 minutes after start, in a utility
    # process (OnDeviceModelService) nobody asked for. A given performance class ("error": no
    # on-device model) skips that. (--disable-features cannot be used: Chromium honours only the
    # last one, which would drop Playwright's own list, and disabling the model features by name
    # did not stop it here.)
    "--optimization-guide-performance-class=1",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


def _require_browser() -> None:
    missing = []
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        missing.append(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the playwright package is not installed")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("REHEARSE_REQUIRE_E2E") == "1":
            pytest.fail(f"browser tests are required (REHEARSE_REQUIRE_E2E=1) but cannot run: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    env: dict[str, str]

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "webapp.cli", *args], env=self.env, input=stdin,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], deadline_s: float = 30) -> None:
    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(healthy, timeout=deadline_s, interval=0.1, message="the server to become healthy")


# Package scope: the server and the browser end with the browser tests, before any other suite runs.
@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    _require_browser()
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("live") / "instance"
    env = {**os.environ, "REHEARSE_DATA_DIR": str(data_dir), "REHEARSE_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    pg_base, pg_name = os.environ.get("REHEARSE_TEST_DATABASE_URL"), None
    if pg_base:
        env["REHEARSE_DATABASE_URL"], pg_name = _create_postgres_database(pg_base)
    server = LiveServer(url=f"http://127.0.0.1:{port}", data_dir=data_dir, env=env)
    server.cli("setup")
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "webapp.cli", "serve", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(server.url, process)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        if pg_name:
            _drop_postgres_database(pg_base, pg_name)


@pytest.fixture(scope="package")
def browser(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


@pytest.fixture
def nojs_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
