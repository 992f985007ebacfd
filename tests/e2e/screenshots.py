"""`make screenshots`: drive a real browser through the main journeys on a fresh site and write the
README's pictures to static/screenshots/ (run by hand after a visible change; not a test)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx2 as httpx
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port
from tests.e2e.editing import paste_code
from tests.helpers import wait_for
from webapp.questions.bank import default_bank_dir, read_path

PASSWORD = "a passphrase 1234"
ANSWER = ("FastAPI is an ASGI framework built on Starlette, so async endpoints run on an event loop, while Flask "
          "is WSGI. FastAPI validates requests with Pydantic models from type hints and generates OpenAPI docs "
          "automatically; Flask has a more mature ecosystem of extensions, so for a new async API I pick FastAPI.")


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> None:
    subprocess.run([sys.executable, "-m", "webapp.cli", *args], env=env, input=stdin, text=True, check=True,
                   capture_output=True, timeout=300)


def _account(env: dict[str, str], email: str, role: str) -> str:
    _cli(env, "create-user", "--email", email, "--role", role, "--password-stdin", stdin=f"{PASSWORD}\n")
    return email


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _answer(page: Page, slug: str, *, text: str = "", code: str = "") -> None:
    page.goto(f"/questions/{slug}")
    if text:
        page.get_by_label("Write your answer").fill(text)
    else:
        paste_code(page, code)
    page.get_by_role("button", name="Submit answer").click()
    expect(page.locator("#submission-status").get_by_text("Score:")).to_be_visible(timeout=60_000)


def take(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    code = next(q for q in read_path(default_bank_dir()).questions
                if q.kind == "code" and q.status == "published" and q.example_tests)
    with tempfile.TemporaryDirectory() as scratch:
        port = _free_port()
        env = {**os.environ, "REHEARSE_DATA_DIR": f"{scratch}/instance", "REHEARSE_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        env.pop("REHEARSE_DATABASE_URL", None)
        _cli(env, "setup")
        server = subprocess.Popen([sys.executable, "-m", "webapp.cli", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shots: list[Path] = []
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: _healthy(url), timeout=60, interval=0.2, message="the server")
            candidate, interviewer, admin = (_account(env, f"{r}.demo@example.com", r)
                                             for r in ("candidate", "interviewer", "admin"))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

                def shot(page: Page, name: str) -> None:
                    path = out / f"{name}.png"
                    page.screenshot(path=str(path))
                    shots.append(path)

                page = browser.new_context(base_url=url, viewport={"width": 1280, "height": 860}).new_page()
                _log_in(page, candidate)
                page.goto("/questions")
                shot(page, "questions")
                _answer(page, "flask-vs-fastapi-choosing", text=ANSWER)
                page.locator("#submission-status").scroll_into_view_if_needed()
                shot(page, "text-feedback")
                page.goto(f"/questions/{code.slug}")
                paste_code(page, code.reference_solution)
                page.get_by_role("button", name="Run examples").click()
                expect(page.locator("#example-run")).to_contain_text("example tests passed", timeout=60_000)
                page.locator("#example-run").evaluate("(e) => e.scrollIntoView({block: 'end'})")  # results, code above
                shot(page, "code-editor")
                _answer(page, code.slug, code=code.reference_solution)
                page.locator("#submission-status").scroll_into_view_if_needed()
                shot(page, "code-feedback")
                page.goto("/submissions")
                page.locator("table a").last.click()  # the written answer
                page.get_by_role("button", name="Ask an interviewer to review this answer").click()
                page.goto("/progress")
                shot(page, "progress")
                reviewer = browser.new_context(base_url=url, viewport={"width": 1280, "height": 860}).new_page()
                _log_in(reviewer, interviewer)
                reviewer.goto("/review")
                reviewer.locator("main table a").first.click()
                reviewer.get_by_role("button", name="Claim this review").click()
                shot(reviewer, "review")
                manager = browser.new_context(base_url=url, viewport={"width": 1280, "height": 860}).new_page()
                _log_in(manager, admin)
                manager.goto("/admin")
                shot(manager, "admin")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return shots


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


if __name__ == "__main__":
    for written in take(Path(sys.argv[1] if len(sys.argv) > 1 else "static/screenshots")):
        print(f"wrote {written}")
