"""The live interview room across a server restart, in real Chromium: what was typed before the
restart stays, what the candidate typed while the server was down stays in their editor and is
sent when the connection is back (docs/interviews.md, the resync), the server stores it, and the
room works both ways afterwards."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import IO

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.e2e.accounts import log_in
from tests.e2e.conftest import LiveServer, _free_port, _wait_until_healthy
from tests.e2e.seeding import signed_in_client
from tests.e2e.test_interview_room_browser import CODE, WATCH_CSP, _account, _editor_text, _server_code, _text_at
from tests.helpers import post_form, wait_for

CONNECTED = "Connected."
RECONNECTING = re.compile(r"^Reconnecting…")  # interview_room.js showStatus(), synced once, not now
UNSENT = re.compile(r"^Reconnecting… \d+ edits? not sent yet \(kept, sent when the connection is back\)\.$")


@dataclasses.dataclass
class OwnServer:
    """A server process of this test's own (the package's live_server is never stopped), on the
    live server's data dir and database, restartable on the same port."""

    site: LiveServer
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    def start(self) -> None:
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "webapp.cli", "serve", "--port", str(self.port)],
                                        env=self.site.env, stdout=self.log, stderr=subprocess.STDOUT)
        _wait_until_healthy(self.site.url, self.process)

    def stop(self) -> int:
        """SIGTERM, then wait for the process to exit; returns its exit status."""
        assert self.process is not None and self.log is not None
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()  # this test's own process, by its handle
            self.process.wait(timeout=10)
            raise
        finally:
            self.log.close()


def _type_line(page: Page, line: str) -> None:
    """A new line at the end of the shared code, typed with the keyboard."""
    page.locator("#room-editor .cm-content").click()
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.press("Enter")
    page.keyboard.type(line)


def test_a_live_room_keeps_what_was_typed_across_a_server_restart(browser: Browser, live_server: LiveServer,
                                                                  tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # The WebSocket handshake checks Origin against the public URL: it must be this server's.
    site = dataclasses.replace(live_server, url=url, env={**live_server.env, "REHEARSE_PUBLIC_URL": url})
    server = OwnServer(site, port, tmp_path / "server.log")
    contexts: list[BrowserContext] = []
    problems: list[str] = []
    staff = None
    try:
        server.start()
        interviewer, candidate = _account(site, "interviewer", "Ivy"), _account(site, "candidate", "Ada")
        staff = signed_in_client(site, interviewer)
        made = post_form(staff, "/interviews", {"candidate_email": candidate, "question": CODE},
                         token_page="/interviews")
        assert made.status_code == 303, made.text[:500]
        interview_id = int(made.headers["location"].rsplit("/", 1)[1])
        room = {"id": interview_id, "staff": staff}
        # The one console error expected: Chromium's report of a failed WebSocket handshake to this
        # room's socket on this server (connection refused while the server is down, as the client
        # retries). Only that URL's "failed" message is let through; any other error fails the test.
        dropped = re.compile(rf"^WebSocket connection to 'ws://127\.0\.0\.1:{port}/interviews/{interview_id}/ws' "
                             r"failed: (Error in connection establishment: )?net::ERR_CONNECTION_REFUSED$")

        def on_console(who: str, message: ConsoleMessage) -> None:
            if message.type == "error" and not dropped.match(message.text):
                problems.append(f"{who}: {message.text}")

        def open_room(who: str, email: str) -> Page:
            context = browser.new_context(base_url=url)
            contexts.append(context)
            context.set_default_timeout(15_000)
            context.add_init_script(WATCH_CSP)
            page = context.new_page()
            page.on("console", lambda message: on_console(who, message))
            page.on("pageerror", lambda exc: problems.append(f"{who}: {exc}"))
            log_in(page, email)
            page.goto(f"/interviews/{interview_id}")
            expect(page.locator("#room-connection")).to_have_text(CONNECTED)
            expect(page.locator("#room-editor .cm-content")).to_be_visible()
            return page

        ivy, ada = open_room("interviewer", interviewer), open_room("candidate", candidate)
        before, offline, after = "# typed before the restart", "# typed while the server was down", "# ivy after"

        _type_line(ada, before)
        wait_for(lambda: before in _editor_text(ivy), timeout=10, message="the interviewer to see the first line")
        # Persist before relay: what reached the interviewer is stored already (no waiting).
        assert before in _server_code(room)

        server.stop()
        for page in (ada, ivy):
            expect(page.locator("#room-connection")).to_have_text(RECONNECTING)
        _type_line(ada, offline)
        expect(ada.locator("#room-connection")).to_have_text(UNSENT)
        assert offline in _editor_text(ada), "the candidate's offline edit stays in their editor"
        assert before in _editor_text(ada)
        assert offline not in _editor_text(ivy)  # nothing can carry it while the server is down

        server.start()  # the same port, the same database
        for page in (ada, ivy):
            expect(page.locator("#room-connection")).to_have_text(CONNECTED, timeout=30_000)

        def settled() -> str | None:
            text = _editor_text(ivy)
            return text if offline in text and text == _editor_text(ada) == _server_code(room) else None

        text = wait_for(settled, timeout=15, interval=0.1,
                        message="the offline line to reach the interviewer and the server, both editors equal")
        assert before in text and text.index(before) < text.index(offline), text
        assert text.count(before) == 1 and text.count(offline) == 1, text  # resent, not duplicated
        # The log kept what it stored before the restart: some moment has the first line without the
        # offline one (a log lost at the restart would only hold the browsers' resync, both at once).
        timeline = staff.get(f"/interviews/{interview_id}/replay.json").json()
        question_id = timeline["questions"][0]["question_id"]
        moments = [_text_at(timeline, update["ms"], question_id) for update in timeline["updates"]]
        assert any(before in moment and offline not in moment for moment in moments), moments[-1:]

        # The room works both ways after the restart: now the interviewer types.
        _type_line(ivy, after)
        wait_for(lambda: after in _editor_text(ada), timeout=10, message="the candidate to see the interviewer's line")
        final = wait_for(lambda: (t := _editor_text(ivy)) == _editor_text(ada) == _server_code(room) and t,
                         timeout=10, message="both editors and the server to agree after the interviewer's line")
        assert final.startswith(text) and after in final, final
        for context in contexts:
            for page in context.pages:
                problems.extend(page.evaluate("window.__cspViolations"))
    finally:
        for context in contexts:
            context.close()
        if staff is not None:
            staff.close()
        if server.process is not None and server.process.poll() is None:
            server.stop()
    assert problems == [], problems
