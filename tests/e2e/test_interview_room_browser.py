"""The live interview room in real Chromium (static/js/interview_room.js and the live bundle): two
people typing at once converge, each sees the other in the room, the candidate's paste is recorded,
and the replay player rebuilds the code at a chosen moment from the stored updates."""

from __future__ import annotations

import base64
import html
import re
import uuid

import pytest
from playwright.sync_api import expect
from pycrdt import Doc, Text

from tests.e2e.accounts import PASSWORD, log_in
from tests.e2e.seeding import signed_in_client
from tests.helpers import post_form, wait_for

CODE = "pydantic-signup-validators"  # a code challenge with starter code
SECOND = "upload-endpoint-metadata"
WATCH_CSP = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));"""
# The editor's text as the person sees it, without the others' cursors (widgets with their names).
EDITOR_TEXT = """(box) => [...box.querySelectorAll(".cm-line")].map((line) => {
  const copy = line.cloneNode(true);
  copy.querySelectorAll(".cm-ySelectionCaret").forEach((caret) => caret.remove());
  return copy.textContent;
}).join("\\n")"""
PASTE = """(content, text) => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  content.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


def _account(live_server, role: str, name: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    live_server.cli("create-user", "--email", email, "--role", role, "--name", name, "--password-stdin",
                    stdin=f"{PASSWORD}\n")
    return email


@pytest.fixture
def room(browser, live_server):
    """An interview between a new interviewer (Ivy) and candidate (Ada), and a function opening the
    room signed in as either. At the end, fails on any console error, page error or CSP violation."""
    interviewer, candidate = _account(live_server, "interviewer", "Ivy"), _account(live_server, "candidate", "Ada")
    staff = signed_in_client(live_server, interviewer)
    made = post_form(staff, "/interviews", {"candidate_email": candidate, "question": CODE}, token_page="/interviews")
    assert made.status_code == 303, made.text[:500]
    interview_id = int(made.headers["location"].rsplit("/", 1)[1])
    contexts, problems = [], []

    def open_room(who: str):
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        context.set_default_timeout(15_000)
        context.add_init_script(WATCH_CSP)
        page = context.new_page()
        page.on("console", lambda msg: problems.append(f"{who}: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(f"{who}: {exc}"))
        log_in(page, interviewer if who == "interviewer" else candidate)
        page.goto(f"/interviews/{interview_id}")
        expect(page.locator("#room-connection")).to_have_text("Connected.")
        expect(page.locator("#room-editor .cm-content")).to_be_visible()
        return page

    try:
        yield {"id": interview_id, "open": open_room, "staff": staff}
        for context in contexts:
            for page in context.pages:
                problems.extend(page.evaluate("window.__cspViolations"))
    finally:
        for context in contexts:
            context.close()
        staff.close()
    assert problems == [], problems


def _editor_text(page) -> str:
    return page.locator("#room-editor").evaluate(EDITOR_TEXT)


def _server_code(room) -> str:
    """The code the server holds now (the room page renders it for the page without JavaScript)."""
    page = room["staff"].get(f"/interviews/{room['id']}").text
    match = re.search(r'<pre class="room-code-static"><code>(.*?)</code></pre>', page, re.S)
    assert match, "no static code in the room page"
    return html.unescape(match.group(1))


def _text_at(timeline: dict, ms: int, question_id: int) -> str:
    """The code at ``ms`` as the server's update log has it: every update by then, applied in order."""
    doc = Doc()
    for update in timeline["updates"]:
        if update["ms"] <= ms:
            doc.apply_update(base64.b64decode(update["update"]))
    return str(doc.get(f"code-{question_id}", type=Text))


def test_two_people_typing_at_once_converge_and_see_each_other(room) -> None:
    interviewer, candidate = room["open"]("interviewer"), room["open"]("candidate")
    for page in (interviewer, candidate):
        expect(page.locator("#room-presence li")).to_have_count(2)
        expect(page.locator("#room-presence")).to_contain_text("Ivy (interviewer")
        expect(page.locator("#room-presence")).to_contain_text("Ada (candidate")
        expect(page.locator("#room-timer")).to_have_text(re.compile(r"^\d\d:\d\d$|^\d+:\d\d:\d\d$"))
    start = _editor_text(candidate)
    assert start and start == _editor_text(interviewer), "both start from the starter code"

    # Ivy types at the end, Ada at the start, keystroke about keystroke: each edit is made before
    # the other's last one has arrived, so the two documents diverge and must merge.
    interviewer.locator(".cm-content").click()
    interviewer.keyboard.press("ControlOrMeta+End")
    candidate.locator(".cm-content").click()
    candidate.keyboard.press("ControlOrMeta+Home")
    for n in range(8):
        interviewer.keyboard.type(f"i{n}")
        candidate.keyboard.type(f"a{n}")
    ivy = "".join(f"i{n}" for n in range(8))
    ada = "".join(f"a{n}" for n in range(8))

    def converged() -> str | None:
        mine, theirs = _editor_text(interviewer), _editor_text(candidate)
        return mine if mine == theirs and ivy in mine and ada in mine else None

    text = wait_for(converged, timeout=10, message="both editors to hold both people's typing")
    assert text.startswith(ada) and text.rstrip().endswith(ivy), text
    assert wait_for(lambda: _server_code(room) == text, timeout=10, message="the server to hold the merged text")
    # Each sees the other's cursor, named.
    expect(interviewer.locator("#room-editor .cm-ySelectionCaret")).to_contain_text("Ada")
    expect(candidate.locator("#room-editor .cm-ySelectionCaret")).to_contain_text("Ivy")


def test_the_candidates_paste_is_recorded_and_the_replay_shows_the_code_at_a_moment(room) -> None:
    interviewer, candidate = room["open"]("interviewer"), room["open"]("candidate")
    content = candidate.locator("#room-editor .cm-content")
    content.click()
    candidate.keyboard.press("ControlOrMeta+End")
    candidate.keyboard.type("# first")
    wait_for(lambda: "# first" in _server_code(room), timeout=10, message="the first edit to be stored")
    pasted = "x = 1  # a long line pasted from somewhere else\n" * 5  # 245 characters: a large paste
    content.evaluate(PASTE, pasted)
    wait_for(lambda: pasted in _server_code(room), timeout=10, message="the paste to be stored")
    expect(interviewer.locator("#room-editor .cm-content")).to_contain_text("# a long line pasted")

    replay_json = f"/interviews/{room['id']}/replay.json"
    def pastes() -> list[dict]:
        return [e for e in room["staff"].get(replay_json).json()["events"] if e["kind"] == "paste"]

    events = wait_for(pastes, timeout=10, message="the paste event to be recorded")
    assert events[-1]["size"] == len(pasted) and events[-1]["external"] is True and events[-1]["large"] is True
    assert events[-1]["who"] == "Ada"

    timeline = room["staff"].get(replay_json).json()
    question_id = timeline["questions"][0]["question_id"]
    # A moment after "# first" was stored and before the paste was.
    moment = next(u["ms"] for u in timeline["updates"] if "# first" in _text_at(timeline, u["ms"], question_id))
    then = _text_at(timeline, moment, question_id)
    assert "# first" in then and pasted not in then

    replay = interviewer.context.new_page()
    replay.goto(f"/interviews/{room['id']}/replay")
    player = replay.get_by_role("group", name="Replay controls")
    expect(player.get_by_role("button", name="Play")).to_be_visible()
    expect(replay.locator("form.replay-moment")).to_be_hidden()  # the no-JavaScript form gives way
    # Playing at 8× runs to the end, which is the code as it is now.
    player.get_by_label("Speed").select_option("8")
    player.get_by_role("button", name="Play").click()
    expect(player.get_by_role("button", name="Play")).to_be_visible(timeout=30_000)  # back from "Pause"
    end = _text_at(timeline, timeline["duration_ms"], question_id)
    expect(replay.locator(".replay-editor .cm-content")).to_contain_text("# a long line pasted")
    assert replay.locator(".replay-editor").evaluate(EDITOR_TEXT) == end
    # Scrubbing back to the moment shows the code as it was then.
    replay.get_by_role("slider", name="Moment").evaluate(
        "(range, ms) => { range.value = String(ms); range.dispatchEvent(new Event('input', {bubbles: true})); }",
        moment)
    expect(replay.locator(".replay-editor .cm-content")).not_to_contain_text("# a long line pasted")
    assert replay.locator(".replay-editor").evaluate(EDITOR_TEXT) == then
    # The paste is listed, stands out, and is marked as passed only once the player is past it.
    flagged = replay.locator(".replay-lists li.replay-flag", has_text="pasted")
    expect(flagged).to_have_count(1)
    expect(flagged).not_to_have_class(re.compile(r"\breplay-past\b"))
    flagged.get_by_role("link").click()
    expect(flagged).to_have_class(re.compile(r"\breplay-past\b"))
    expect(replay.locator(".replay-editor .cm-content")).to_contain_text("# a long line pasted")
    # The keyboard moves the scrubber too.
    replay.get_by_role("slider", name="Moment").press("Home")
    expect(replay.locator(".replay-clock")).to_have_text(re.compile(r"^0:00 of "))


def test_switching_questions_rebinds_both_editors(room) -> None:
    interviewer, candidate = room["open"]("interviewer"), room["open"]("candidate")
    first = _editor_text(candidate)
    heading = candidate.locator("#question-heading").inner_text()
    interviewer.get_by_label("Question slug").fill(SECOND)
    interviewer.get_by_role("button", name="Ask it now").click()
    for page in (interviewer, candidate):
        expect(page.locator("#room-connection")).to_have_text("Connected.")
        wait_for(lambda page=page: _editor_text(page) != first, timeout=10,
                 message="the editor to show the new question")
    # The candidate's page was not reloaded: the room's message rebound its editor, and htmx
    # reloaded the question on the interview:question event.
    expect(candidate.locator("#question-heading")).not_to_have_text(heading)
    # Both now edit the new question's text, together.
    candidate.locator("#room-editor .cm-content").click()
    candidate.keyboard.press("ControlOrMeta+End")
    candidate.keyboard.type("# on the second question")
    expect(interviewer.locator("#room-editor .cm-content")).to_contain_text("# on the second question")
    assert "# on the second question" not in first


def test_ending_the_interview_makes_the_candidates_editor_read_only(room) -> None:
    interviewer, candidate = room["open"]("interviewer"), room["open"]("candidate")
    candidate.evaluate("document.body.addEventListener('interview:ended', () => { window.__ended = true; })")
    before = _editor_text(candidate)
    interviewer.locator("input[name=recommendation]").first.check()
    interviewer.get_by_role("button", name="End the interview").click()
    expect(candidate.locator("#room-connection")).to_have_text("This interview has ended: the code is read-only.")
    assert candidate.evaluate("window.__ended") is True
    expect(candidate.locator("#room-editor .cm-content")).to_have_attribute("aria-readonly", "true")
    candidate.locator("#room-editor .cm-content").click()
    candidate.keyboard.type("# too late")
    assert _editor_text(candidate) == before
    # Reloaded, the finished room shows the final code in a read-only editor, with no connection.
    candidate.reload()
    expect(candidate.locator("#room-editor .cm-content")).to_have_attribute("aria-readonly", "true")
    assert _editor_text(candidate) == before
    expect(candidate.locator("#room-timer")).to_have_text("—")


def test_private_notes_never_reach_the_candidates_browser(room) -> None:
    """Checked on the wire: every WebSocket frame the candidate's page receives, and every page and
    fragment it loads, while the interviewer writes a note and the candidate's room stays open."""
    candidate = room["open"]("candidate")
    frames: list[bytes] = []
    bodies: list[str] = []
    candidate.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, bytes) else payload.encode())))
    candidate.on("response", lambda response: bodies.append(response.text())
                 if response.request.resource_type in ("document", "fetch", "xhr") else None)
    candidate.reload()  # the socket opened after the listener: all its frames are seen
    expect(candidate.locator("#room-connection")).to_have_text("Connected.")
    interviewer = room["open"]("interviewer")
    secret = f"private-{uuid.uuid4().hex}"
    interviewer.locator("#note-body").fill(secret)
    interviewer.get_by_role("button", name="Add note").click()
    expect(interviewer.locator("#room-notes")).to_contain_text(secret)
    interviewer.locator("#room-editor .cm-content").click()
    interviewer.keyboard.type("x = 1")  # traffic on the socket after the note
    expect(candidate.locator("#room-editor .cm-content")).to_contain_text("x = 1")  # came over the socket
    candidate.reload()
    expect(candidate.locator("#room-connection")).to_have_text("Connected.")
    assert frames and not any(secret.encode() in frame for frame in frames)
    assert bodies and not any(secret in body for body in bodies)
    assert secret not in candidate.content()
