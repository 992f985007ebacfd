"""Code questions: the reference solution is run in the sandbox before candidates see it."""

from __future__ import annotations

from functools import partial

import pytest
import yaml

from tests.helpers import post_form
from webapp.core.db import session_scope
from webapp.questions.curation import get_question

TESTS = '''def test_ping_answers_pong(client):
    r = client.get("/ping")
    assert r.status_code == 200 and r.json() == {"pong": True}, "GET /ping should return {'pong': true}"
'''
GOOD = ('from fastapi import FastAPI\\n\\napp = FastAPI()\\n\\n'
        '@app.get("/ping")\\ndef ping():\\n    return {"pong": True}\\n')
BAD = GOOD.replace("True", "False")
GOOD_CODE, BAD_CODE = GOOD.replace("\\n", "\n"), BAD.replace("\\n", "\n")  # as pasted into the editor

FORM = {"slug": "ping-pong", "kind": "code", "title": "Ping", "topic": "middleware", "difficulty": "easy",
        "prompt": "Answer GET /ping.", "starter_code": "from fastapi import FastAPI\napp = FastAPI()\n",
        "hidden_tests": TESTS}


_post = partial(post_form, token_page="/admin")  # every admin form here takes its token from /admin


def _status(app, slug):
    with session_scope(app.state.db.read_session) as db:
        return get_question(db, slug=slug).status.value


@pytest.mark.sandbox
def test_run_reference_solution_from_the_editor(admin_client, bank) -> None:
    good = _post(admin_client, "/admin/questions/run-reference", {**FORM, "reference_solution": GOOD_CODE},
                 headers={"HX-Request": "true"})
    assert "passes every hidden test" in good.text and "test_ping_answers_pong" in good.text
    bad = _post(admin_client, "/admin/questions/run-reference", {**FORM, "reference_solution": BAD_CODE},
                headers={"HX-Request": "true"})
    assert "does not pass" in bad.text and "should return" in bad.text
    assert "def test_ping" not in bad.text  # hidden test source is never shown, even to admins here
    plain = _post(admin_client, "/admin/questions/new", {**FORM, "reference_solution": GOOD_CODE,
                                                          "action": "run-reference"})
    assert plain.status_code == 200
    assert "passes every hidden test" in plain.text and 'id="question-editor"' in plain.text


@pytest.mark.sandbox
def test_failing_reference_cannot_be_published(admin_client, bank, app) -> None:
    created = _post(admin_client, "/admin/questions/new", {**FORM, "reference_solution": BAD_CODE,
                                                            "action": "save"})
    assert created.status_code == 303  # drafts may be broken while they are written
    _post(admin_client, "/admin/questions/ping-pong/status", {"status": "published"})
    assert _status(app, "ping-pong") == "draft"
    assert "does not pass its hidden tests" in admin_client.get("/admin/questions/ping-pong/edit").text
    fixed = _post(admin_client, "/admin/questions/ping-pong/edit", {**FORM, "reference_solution": GOOD_CODE,
                                                                     "action": "save"})
    assert fixed.status_code == 303
    _post(admin_client, "/admin/questions/ping-pong/status", {"status": "published"})
    assert _status(app, "ping-pong") == "published"
    broken = _post(admin_client, "/admin/questions/ping-pong/edit", {**FORM, "reference_solution": BAD_CODE,
                                                                      "action": "save"})
    assert broken.status_code == 422 and "does not pass its hidden tests" in broken.text


def _stage(client, question: dict) -> tuple[object, str]:
    response = _post(client, "/admin/questions/import", files={"file": ("q.yaml", yaml.safe_dump(
        {"questions": [question]}).encode(), "application/yaml")})
    page = response.text.split('hx-get="/admin/questions/import/')
    return response, page[1].split('"')[0] if len(page) > 1 else ""


@pytest.mark.sandbox
def test_import_checks_known_solutions_on_the_graders_and_refuses_a_failing_reference(admin_client, bank,
                                                                                       app, drain) -> None:
    question = {**FORM, "reference_solution": BAD_CODE, "wrong_solutions": [{"label": "none", "code": "app = None\n"}]}
    staged, import_id = _stage(admin_client, question)
    # The request only queued the checks: no sandbox ran inside it.
    assert staged.status_code == 200 and "Checking known solutions" in staged.text and "0 of 2" in staged.text
    early = _post(admin_client, f"/admin/questions/import/{import_id}/apply")
    assert early.status_code == 409 and "still being checked (0 of 2 done)" in early.text
    polled = admin_client.get(f"/admin/questions/import/{import_id}", headers={"HX-Request": "true"})
    assert polled.status_code == 200 and "<nav" not in polled.text and 'hx-trigger="every 1s"' in polled.text
    assert drain() == 2
    done = admin_client.get(f"/admin/questions/import/{import_id}", headers={"HX-Request": "true"})
    assert done.status_code == 422 and "does not pass its hidden tests" in done.text
    assert "hx-trigger" not in done.text and "/apply" not in done.text  # polling stops; nothing to apply
    refused = _post(admin_client, f"/admin/questions/import/{import_id}/apply")
    assert refused.status_code == 422 and "does not pass its hidden tests" in refused.text
    with session_scope(app.state.db.read_session) as db:
        assert get_question(db, slug="ping-pong") is None


@pytest.mark.sandbox
def test_an_import_whose_known_solutions_score_as_labelled_applies(admin_client, bank, app, drain) -> None:
    question = {**FORM, "reference_solution": GOOD_CODE, "wrong_solutions": [{"label": "false", "code": BAD_CODE}]}
    _, import_id = _stage(admin_client, question)
    assert drain() == 2
    ready = admin_client.get(f"/admin/questions/import/{import_id}")
    assert ready.status_code == 200 and "Ready to import" in ready.text and "2 of 2" in ready.text
    applied = _post(admin_client, f"/admin/questions/import/{import_id}/apply")
    assert applied.status_code == 303 and _status(app, "ping-pong") == "published"


def test_admins_see_a_banner_when_code_is_not_isolated(settings, make_user) -> None:
    from starlette.testclient import TestClient

    from tests.conftest import PASSWORD
    from tests.helpers import login
    from webapp.identity.models import Role
    from webapp.main import create_app

    app = create_app(settings.model_copy(update={"sandbox": "process"}))
    with TestClient(app) as client:
        admin = make_user(Role.admin)
        login(client, admin.email, PASSWORD)
        assert "Candidate code is not isolated." in client.get("/admin").text
    app.state.db.dispose()


@pytest.mark.sandbox
def test_publishing_needs_every_known_solution_to_score_as_labelled(admin_client, bank, app) -> None:
    good = GOOD_CODE
    router_style = ("from fastapi import APIRouter, FastAPI\n\nrouter = APIRouter()\n\n\n@router.get('/ping')\n"
                    "async def ping() -> dict:\n    return {'pong': True}\n\n\n"
                    "app = FastAPI()\napp.include_router(router)\n")
    fields = {**FORM, "reference_solution": good, "action": "save",
              "correct-0-label": "a router", "correct-0-code": router_style,
              "wrong-0-label": "answers false", "wrong-0-code": BAD_CODE,
              "equivalent_mutants": "m-0123abcd: the status code is 200 either way"}
    assert _post(admin_client, "/admin/questions/new", fields).status_code == 303
    editor = admin_client.get("/admin/questions/ping-pong/edit").text  # everything survives the round trip
    assert "a router" in editor and "answers false" in editor and "m-0123abcd: the status code is 200" in editor
    _post(admin_client, "/admin/questions/ping-pong/status", {"status": "published"})
    assert _status(app, "ping-pong") == "published"
    caught_nothing = _post(admin_client, "/admin/questions/ping-pong/edit", {**fields, "wrong-0-code": router_style})
    assert caught_nothing.status_code == 422 and "the tests do not catch its mistake" in caught_nothing.text
    rejected = _post(admin_client, "/admin/questions/ping-pong/edit", {**fields, "correct-0-code": BAD_CODE})
    assert rejected.status_code == 422 and "known-correct solution “a router” does not pass" in rejected.text


def test_hidden_tests_that_import_the_solution_are_refused_with_the_reason(admin_client, bank) -> None:
    old_style = "from solution import app\n\ndef test_it():\n    assert app\n"
    saved = _post(admin_client, "/admin/questions/new", {**FORM, "hidden_tests": old_style, "action": "save",
                                                          "reference_solution": GOOD_CODE})
    assert saved.status_code == 422 and "cannot import solution" in saved.text and "client" in saved.text
    run = _post(admin_client, "/admin/questions/run-reference", {**FORM, "hidden_tests": old_style,
                                                                  "reference_solution": GOOD_CODE},
                headers={"HX-Request": "true"})
    assert run.status_code == 200 and "cannot import solution" in run.text  # a message, not a 500


EXAMPLES = '''def test_example_ping(client):
    assert client.get("/ping").json() == {"pong": True}, "GET /ping should return {'pong': true}"
'''
WRONG_EXAMPLES = EXAMPLES.replace("True}", "False}").replace("test_example_ping", "test_example_wrong")


@pytest.mark.sandbox
def test_example_tests_must_pass_on_the_reference_to_publish(admin_client, bank, app) -> None:
    """Candidates run the examples before they submit: a reference that fails them would mislead."""
    form = {**FORM, "reference_solution": GOOD_CODE, "example_tests": WRONG_EXAMPLES, "status": "published",
            "action": "save"}
    refused = _post(admin_client, "/admin/questions/new", form)
    assert refused.status_code == 422 and "does not pass its example tests" in refused.text
    assert "test_example_wrong" in refused.text
    created = _post(admin_client, "/admin/questions/new", {**form, "example_tests": EXAMPLES})
    assert created.status_code == 303 and _status(app, "ping-pong") == "published"
    page = admin_client.get("/questions/ping-pong").text
    assert "test_example_ping" in page and "Run examples" in page
    no_test = "def helper():\n    pass\n"
    broken = _post(admin_client, "/admin/questions/ping-pong/edit", {**form, "example_tests": no_test})
    assert broken.status_code == 422 and "example tests need at least one test_" in broken.text
