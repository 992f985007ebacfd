"""Live interviews over HTTP: scheduling, who sees what, questions, runs, private notes, ending with
the scorecard, and the replay. (The WebSocket and the relay: test_live_sync.py; the browser:
tests/e2e/test_interview_room_browser.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.audit.models import AuditEvent
from webapp.core.db import session_scope
from webapp.grading.models import ExampleRun
from webapp.identity.models import Role
from webapp.interviews import document, replay
from webapp.interviews.models import Interview, InterviewRun, InterviewUpdate
from webapp.interviews.texts import insert_text, text_name, text_of
from webapp.mail.models import OutboxMessage
from webapp.questions.models import Question

CODE = "pydantic-signup-validators"  # a code challenge with a starter, examples and hidden tests
TEXT = "pydantic-role-in-fastapi"  # written, with a rubric
HTMX = {"HX-Request": "true"}


@pytest.fixture
def room(app, bank, make_user, make_client):
    """An interviewer and a candidate, each signed in, and an interview scheduled between them."""
    interviewer, candidate = make_user(Role.interviewer), make_user(Role.candidate)
    staff, guest = make_client(), make_client()
    login(staff, interviewer.email, PASSWORD)
    login(guest, candidate.email, PASSWORD)
    made = post_form(staff, "/interviews", {"candidate_email": candidate.email, "question": CODE},
                     token_page="/interviews")
    assert made.status_code == 303, made.text
    interview_id = int(made.headers["location"].rsplit("/", 1)[1])
    return {"id": interview_id, "staff": staff, "guest": guest, "interviewer": interviewer, "candidate": candidate}


def _interview(app, interview_id: int) -> Interview:
    with session_scope(app.state.db.read_session) as db:
        interview = db.get_one(Interview, interview_id)
        db.expunge(interview)
        return interview


def _code(app, interview_id: int, question_id: int) -> str:
    with session_scope(app.state.db.read_session) as db:
        return text_of(document.load_document(db, interview_id=interview_id), question_id)


def _question_id(app, slug: str) -> int:
    with session_scope(app.state.db.read_session) as db:
        return db.scalar(select(Question.id).where(Question.slug == slug))


def test_scheduling_invites_the_candidate_and_writes_the_starter_code(app, room) -> None:
    interview = _interview(app, room["id"])
    assert interview.candidate_id == room["candidate"].id and interview.status.value == "upcoming"
    with session_scope(app.state.db.read_session) as db:
        starter = db.scalar(select(Question).where(Question.slug == CODE)).current_revision.starter_code
    assert starter and _code(app, room["id"], _question_id(app, CODE)) == starter, "written once, by the server"
    with session_scope(app.state.db.read_session) as db:
        mail = db.scalars(select(OutboxMessage).where(OutboxMessage.to == room["candidate"].email)).all()
        audit = db.scalars(select(AuditEvent.action).where(AuditEvent.target == f"interview:{room['id']}")).all()
    assert len(mail) == 1 and f"/interviews/{room['id']}" in mail[0].body
    assert "interview.created" in audit
    listed = room["guest"].get("/interviews").text
    assert f"/interviews/{room['id']}" in listed, "the candidate finds it on their Interviews page"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"candidate_email": "", "question": CODE}, "candidate_email", "Enter the candidate"),
    ({"candidate_email": "nobody@example.com", "question": CODE}, "candidate_email", "No account for"),
    ({"candidate_email": "SELF", "question": CODE}, "candidate_email", "cannot interview yourself"),
    ({"candidate_email": "CANDIDATE", "question": "no-such-question"}, "question", "published question"),
])
def test_bad_input_re_renders_the_form(app, bank, make_user, client, fields, field, message) -> None:
    interviewer, candidate = make_user(Role.interviewer), make_user()
    login(client, interviewer.email, PASSWORD)
    email = {"SELF": interviewer.email, "CANDIDATE": candidate.email}.get(fields["candidate_email"],
                                                                         fields["candidate_email"])
    response = post_form(client, "/interviews", {**fields, "candidate_email": email}, token_page="/interviews")
    assert response.status_code == 422
    assert message in response.text and f'id="{field}" ' in response.text
    assert 'aria-invalid="true"' in response.text
    with session_scope(app.state.db.read_session) as db:
        assert db.scalar(select(Interview.id)) is None


def test_a_candidate_cannot_schedule(candidate_client, bank) -> None:
    response = post_form(candidate_client, "/interviews", {"candidate_email": "x@example.com", "question": CODE},
                         token_page="/interviews")
    assert response.status_code == 403


def test_private_notes_never_reach_the_candidate(app, room) -> None:
    secret = "Struggled with validators; nervous but recovered."
    added = post_form(room["staff"], f"/interviews/{room['id']}/notes", {"body": secret},
                      token_page=f"/interviews/{room['id']}", headers=HTMX)
    assert added.status_code == 200 and secret in added.text
    assert secret in room["staff"].get(f"/interviews/{room['id']}").text
    for path in ("", "/question", "/runs"):
        page = room["guest"].get(f"/interviews/{room['id']}{path}")
        assert page.status_code == 200 and secret not in page.text and "Private notes" not in page.text
    refused = post_form(room["guest"], f"/interviews/{room['id']}/notes", {"body": "mine"},
                        token_page=f"/interviews/{room['id']}")
    assert refused.status_code == 403
    assert room["guest"].get(f"/interviews/{room['id']}/replay.json").status_code == 403
    empty = post_form(room["staff"], f"/interviews/{room['id']}/notes", {"body": "  "},
                      token_page=f"/interviews/{room['id']}", headers=HTMX)
    assert empty.status_code == 422 and "Write the note first" in empty.text


def test_runs_use_the_servers_document_and_hidden_runs_stay_with_the_interviewer(app, room) -> None:
    question_id = _question_id(app, CODE)
    run = post_form(room["guest"], f"/interviews/{room['id']}/runs", {"suite": "example"},
                    token_page=f"/interviews/{room['id']}", headers=HTMX)
    assert run.status_code == 200, run.text
    with session_scope(app.state.db.read_session) as db:
        row, queued = db.execute(select(InterviewRun, ExampleRun).join(ExampleRun,
                                                                       ExampleRun.id == InterviewRun.run_id)).one()
        assert queued.code == text_of(document.load_document(db, interview_id=room["id"]), question_id)
        assert (row.suite, queued.suite, queued.kept) == ("example", "example", True)
    again = post_form(room["staff"], f"/interviews/{room['id']}/runs", {"suite": "hidden"},
                      token_page=f"/interviews/{room['id']}", headers=HTMX)
    assert again.status_code == 409, "one run at a time per room"
    with session_scope(app.state.db.write_session) as db:  # the first run finishes
        db.get_one(ExampleRun, queued.id).status = "done"
        db.get_one(ExampleRun, queued.id).result = {"summary": "2 of 2 example tests passed.", "tests": []}
    hidden = post_form(room["staff"], f"/interviews/{room['id']}/runs", {"suite": "hidden"},
                       token_page=f"/interviews/{room['id']}", headers=HTMX)
    assert hidden.status_code == 200 and "hidden tests" in hidden.text
    assert "hidden tests ·" not in room["guest"].get(f"/interviews/{room['id']}/runs").text
    assert "2 of 2 example tests passed." in room["guest"].get(f"/interviews/{room['id']}/runs").text
    forbidden = post_form(room["guest"], f"/interviews/{room['id']}/runs", {"suite": "hidden"},
                          token_page=f"/interviews/{room['id']}", headers=HTMX)
    assert forbidden.status_code == 403


def test_questions_switch_and_a_text_question_has_nothing_to_run(app, room) -> None:
    added = post_form(room["staff"], f"/interviews/{room['id']}/questions", {"question": TEXT},
                      token_page=f"/interviews/{room['id']}")
    assert added.status_code == 303
    assert _interview(app, room["id"]).current_question_id == _question_id(app, TEXT)
    assert "Pydantic" in room["guest"].get(f"/interviews/{room['id']}/question").text
    nothing = post_form(room["guest"], f"/interviews/{room['id']}/runs", {"suite": "example"},
                        token_page=f"/interviews/{room['id']}", headers=HTMX)
    assert nothing.status_code == 409 and "no example tests" in nothing.text
    back = post_form(room["staff"], f"/interviews/{room['id']}/questions",
                     {"question_id": str(_question_id(app, CODE))}, token_page=f"/interviews/{room['id']}")
    assert back.status_code == 303 and _interview(app, room["id"]).current_question_id == _question_id(app, CODE)
    refused = post_form(room["guest"], f"/interviews/{room['id']}/questions", {"question": TEXT},
                        token_page=f"/interviews/{room['id']}")
    assert refused.status_code == 403


def test_ending_needs_a_recommendation_then_the_room_is_read_only(app, room) -> None:
    path = f"/interviews/{room['id']}"
    post_form(room["staff"], f"{path}/questions", {"question": TEXT}, token_page=path)  # it has a rubric
    text_id = _question_id(app, TEXT)
    missing = post_form(room["staff"], f"{path}/end", {"overall_comment": "Good."}, token_page=path)
    assert missing.status_code == 422 and "Choose a recommendation" in missing.text
    assert "Good." in missing.text, "what was typed comes back"
    assert post_form(room["guest"], f"{path}/end", {"recommendation": "strong_yes"}, token_page=path).status_code == 403
    ended = post_form(room["staff"], f"{path}/end", {
        "recommendation": "yes", "overall_comment": "Solid.", f"rating-{text_id}-0": "met",
        f"rating-{text_id}-1": "bogus", f"rating-{text_id}-99": "met", "rating-0-0": "met"}, token_page=path)
    assert ended.status_code == 303
    interview = _interview(app, room["id"])
    assert interview.is_finished and interview.recommendation.value == "yes"
    assert interview.point_ratings == {f"{text_id}-0": "met"}, "only known points and ratings are kept"
    page = room["guest"].get(path).text
    assert 'data-read-only="true"' in page and "Solid." not in page, "the scorecard is for staff"
    assert "Solid." in room["staff"].get(path).text
    late = post_form(room["staff"], f"{path}/questions", {"question": CODE}, token_page=path)
    assert late.status_code == 409
    record = room["staff"].get(f"/progress/{room['candidate'].id}").text
    assert "Live interviews" in record and "Yes" in record


def test_the_replay_rebuilds_the_code_at_a_moment(app, room) -> None:
    question_id = _question_id(app, CODE)
    with session_scope(app.state.db.write_session) as db:
        interview = db.get_one(Interview, room["id"])
        interview.started_at = interview.created_at
        document.change_document(db, interview=interview, change=lambda doc: _append(doc, question_id, "\n# later"))
    with session_scope(app.state.db.write_session) as db:  # that edit came five seconds in
        last = db.scalars(select(InterviewUpdate).where(InterviewUpdate.interview_id == room["id"])
                          .order_by(InterviewUpdate.id.desc())).first()
        last.created_at = _interview(app, room["id"]).created_at + timedelta(seconds=5)
    with session_scope(app.state.db.read_session) as db:
        interview = db.get_one(Interview, room["id"])
        line = replay.timeline(db, interview=interview)
        before = replay.code_at(db, interview=interview, ms=4_000)
        after = replay.code_at(db, interview=interview, ms=5_000)
    assert line["duration_ms"] == 5_000 and line["updates"][-1]["ms"] == 5_000
    assert not before.code.endswith("# later") and before.code, "the starter code, as it was at 4 s"
    assert after.code == before.code + "\n# later"
    data = room["staff"].get(f"/interviews/{room['id']}/replay.json").json()
    assert [u["update"] for u in data["updates"]] == [u["update"] for u in line["updates"]]
    early = room["staff"].get(f"/interviews/{room['id']}/replay", params={"at": "0:04"})
    assert early.status_code == 200 and "# later" not in early.text
    assert "# later" in room["staff"].get(f"/interviews/{room['id']}/replay", params={"at": "5"}).text
    assert room["staff"].get(f"/interviews/{room['id']}/replay", params={"at": "soon"}).status_code == 422


def _append(doc, question_id: int, text: str) -> None:
    insert_text(doc, text_name(question_id), text)
