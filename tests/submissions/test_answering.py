"""Candidates answer questions and get their feedback; bad input never gets in."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.helpers import login
from webapp.core.db import session_scope
from webapp.identity.models import Role
from webapp.questions.curation import get_question
from webapp.questions.editing import set_status
from webapp.questions.models import QuestionStatus
from webapp.submissions.models import Submission


def _first(bank, kind, multiple=None):
    return next(q for q in bank.questions if q.kind == kind and (multiple is None or q.multiple == multiple))


def _count(app) -> int:
    with session_scope(app.state.db.read_session) as db:
        return db.scalar(select(func.count()).select_from(Submission))


def test_text_answer_is_queued_then_graded_with_evidence(answer, candidate_client, bank, drain):
    spec = _first(bank, "text")
    strong = next(c.answer for c in spec.calibration if c.expect == "strong")
    response = answer(spec.slug, answer=strong)
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/submissions/\d+", location)
    pending = candidate_client.get(location).text
    assert "Waiting for a grader" in pending and "position 1 in the queue" in pending
    assert 'http-equiv="refresh"' in pending and "hx-trigger=\"load delay:" in pending
    assert drain() == 1
    graded = candidate_client.get(location).text
    assert "Score: <span class=\"score\">100</span>/100" in graded
    assert "<mark id=\"evidence-1\"" in graded and "✓ Met" in graded
    assert "Model answer" in graded and 'http-equiv="refresh"' not in graded


def test_status_fragment_polls_until_done(answer, candidate_client, bank, drain):
    spec = _first(bank, "text")
    response = answer(spec.slug, answer="Pydantic validates the request body.", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text
    assert 'hx-get="/submissions/' in response.text and "load delay:" in response.text
    status_url = re.search(r'hx-get="(/submissions/\d+/status)"', response.text).group(1)
    drain()
    done = candidate_client.get(status_url, headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.text and "Score:" in done.text
    assert candidate_client.get(status_url, follow_redirects=False).status_code == 303


def test_choice_answer_graded_with_explanations(answer, candidate_client, bank, drain):
    spec = _first(bank, "choice", multiple=False)
    right = next(c for c in spec.choices if c.correct)
    wrong = next(c for c in spec.choices if not c.correct)
    ok = answer(spec.slug, choice=right.id)
    bad = answer(spec.slug, choice=wrong.id)
    drain()
    assert "Score: <span class=\"score\">100</span>" in candidate_client.get(ok.headers["location"]).text
    page = candidate_client.get(bad.headers["location"]).text
    assert "Score: <span class=\"score\">0</span>" in page and "Not quite." in page


def test_empty_and_foreign_answers_are_422(answer, bank, app):
    text, single = _first(bank, "text"), _first(bank, "choice", multiple=False)
    empty = answer(text.slug, answer="   ")
    assert empty.status_code == 422 and "Write an answer before submitting." in empty.text
    assert 'aria-invalid="true"' in empty.text
    foreign = answer(single.slug, choice="zz")
    assert foreign.status_code == 422 and "does not belong to this question" in foreign.text
    two = answer(single.slug, choice=[c.id for c in single.choices[:2]])
    assert two.status_code == 422 and "pick only one" in two.text
    none = answer(single.slug)
    assert none.status_code == 422
    htmx = answer(text.slug, answer="", headers={"HX-Request": "true"})
    assert htmx.status_code == 422 and htmx.headers["hx-retarget"] == "#answer-form"
    assert _count(app) == 0


def test_draft_archived_and_unknown_questions_are_404(answer, bank, app):
    draft, archived = bank.questions[0].slug, bank.questions[1].slug
    with session_scope(app.state.db.write_session) as db:
        set_status(db, question=get_question(db, slug=draft), status=QuestionStatus.draft, actor=None)
        set_status(db, question=get_question(db, slug=archived), status=QuestionStatus.archived, actor=None)
    for slug in (draft, archived, "no-such-question"):
        assert answer(slug, answer="An answer.", choice="a", code="x = 1").status_code == 404
    assert _count(app) == 0


@pytest.mark.sandbox
def test_code_upload_is_stored_and_graded_in_the_sandbox(answer, candidate_client, bank, app, drain):
    spec = _first(bank, "code")
    source = spec.reference_solution.encode()
    response = answer(spec.slug, files={"file": ("../../etc/solution.py", source, "text/x-python")})
    assert response.status_code == 303
    pending = candidate_client.get(response.headers["location"]).text
    assert "is running right now" in pending  # no grader process has reported in yet
    assert drain() == 1
    page = candidate_client.get(response.headers["location"]).text
    assert "Score: <span class=\"score\">100</span>" in page
    assert "All tests passed" in page and "✓ passed" in page
    wrong = answer(spec.slug, code=spec.wrong_solutions[0].code)
    drain()
    wrong_page = candidate_client.get(wrong.headers["location"]).text
    assert "✗" in wrong_page and "tests passed" in wrong_page
    assert spec.hidden_tests.strip().splitlines()[-1].strip() not in wrong_page
    broken = answer(spec.slug, code="def broken(:\n    pass\n")
    drain()
    broken_page = candidate_client.get(broken.headers["location"]).text
    assert "Syntax error" in broken_page and "Line 1, column" in broken_page
    with session_scope(app.state.db.read_session) as db:
        stored = db.scalar(select(Submission).order_by(Submission.id))
        assert stored.code_filename == "solution.py" and stored.code_size == len(source)
        assert stored.code_sha256 and stored.feedback["verdict"] == "passed"


def test_pasted_code_is_accepted(answer, bank):
    spec = _first(bank, "code")
    assert answer(spec.slug, code=spec.reference_solution).status_code == 303
    assert answer(spec.slug, code="  ").status_code == 422


def test_hostile_uploads(answer, bank, app):
    spec = _first(bank, "code")
    nul = answer(spec.slug, files={"file": ("a.py", b"print(1)\x00", "text/plain")})
    assert nul.status_code == 400 and "NUL byte" in nul.text
    latin = answer(spec.slug, files={"file": ("a.py", "caf\u00e9 = 1".encode("latin-1"), "text/plain")})
    assert latin.status_code == 400 and "not valid UTF-8" in latin.text
    exe = answer(spec.slug, files={"file": ("a.exe", b"MZ", "application/octet-stream")})
    assert exe.status_code == 422 and "upload a .py" in exe.text
    xss = answer(spec.slug, files={"file": ("<img src=x onerror=alert(1)>.py", b"print(1)", "text/plain")})
    assert xss.status_code == 303
    assert _count(app) == 1


def test_oversized_bodies_are_413(answer, candidate_client, bank, app):
    spec = _first(bank, "code")
    limit = app.state.settings.max_upload_bytes
    big = answer(spec.slug, files={"file": ("big.py", b"#" * (limit + 200_000), "text/plain")})
    assert big.status_code == 413 and "larger than" in big.text
    just_over = answer(spec.slug, files={"file": ("big.py", b"#" * (limit + 1), "text/plain")})
    assert just_over.status_code == 413

    def chunks():  # no Content-Length: the body streams in chunks
        yield b"--x\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n"
        for _ in range(40):
            yield b"#" * 10_000
        yield b"\r\n--x--\r\n"

    chunked = candidate_client.post(f"/questions/{spec.slug}/submissions", content=chunks(),
                                    headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert chunked.status_code == 413
    assert _count(app) == 0


def test_rate_limit_is_429(answer, bank, app):
    app.state.settings.submissions_per_window = 3
    spec = _first(bank, "text")
    for _ in range(3):
        assert answer(spec.slug, answer="Pydantic validates data.").status_code == 303
    limited = answer(spec.slug, answer="Pydantic validates data.")
    assert limited.status_code == 429 and "Take a short break" in limited.text
    assert _count(app) == 3


def test_nobody_else_sees_a_submission_but_staff(answer, bank, make_client, make_user, drain):
    spec = _first(bank, "text")
    location = answer(spec.slug, answer="ASGI and Starlette.").headers["location"]
    other = make_client()
    login(other, make_user().email, PASSWORD)
    assert other.get(location).status_code == 404
    assert other.get(location + "/status", headers={"HX-Request": "true"}).status_code == 404
    interviewer = make_client()
    login(interviewer, make_user(Role.interviewer).email, PASSWORD)
    assert interviewer.get(location).status_code == 200
    anonymous = make_client()
    assert anonymous.get(location, follow_redirects=False).status_code == 303


def test_history_filters_and_pages(answer, candidate_client, bank, drain, app):
    app.state.settings.submissions_per_window = 100
    text, choice = _first(bank, "text"), _first(bank, "choice", multiple=False)
    for n in range(27):
        answer(text.slug, answer=f"Answer number {n} about Pydantic validation.")
    answer(choice.slug, choice=choice.choices[0].id)
    drain()
    first = candidate_client.get("/submissions").text
    assert first.count('href="/submissions/') == 25 and "Older answers" in first
    older = re.search(r'href="(/submissions\?before=\d+)"', first).group(1)
    second = candidate_client.get(older).text
    assert second.count('href="/submissions/') == 3 and "Older answers" not in second
    only_choice = candidate_client.get("/submissions?kind=choice").text
    assert only_choice.count('href="/submissions/') == 1
    assert "No answers yet" in candidate_client.get("/submissions?status=failed").text


def test_try_again_keeps_earlier_attempts(answer, candidate_client, bank, drain):
    spec = _first(bank, "text")
    first = answer(spec.slug, answer="Pydantic.").headers["location"]
    second = answer(spec.slug, answer="Pydantic validates and serialises data.").headers["location"]
    drain()
    page = candidate_client.get(second).text
    assert "Earlier attempts" in page and f'href="{first}"' in page
    assert f'href="/questions/{spec.slug}#answer-heading">Try again' in page


def _form_token(client, slug: str) -> str:
    page = client.get(f"/questions/{slug}").text
    return re.search(r'name="form_token" value="([A-Za-z0-9_-]+)"', page).group(1)


def test_the_same_form_sent_twice_makes_one_submission(answer, candidate_client, bank, app):
    spec = _first(bank, "text")
    token = _form_token(candidate_client, spec.slug)
    first = answer(spec.slug, answer="ASGI lets FastAPI run async code.", form_token=token)
    again = answer(spec.slug, answer="ASGI lets FastAPI run async code.", form_token=token)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"] and _count(app) == 1
    edited = answer(spec.slug, answer="ASGI lets FastAPI run async code, and more.", form_token=token)
    assert edited.headers["location"] != first.headers["location"] and _count(app) == 2  # a changed answer is new
    fresh = answer(spec.slug, answer="ASGI lets FastAPI run async code.", form_token=_form_token(candidate_client,
                                                                                                 spec.slug))
    assert fresh.headers["location"] not in (first.headers["location"], edited.headers["location"])
    assert _form_token(candidate_client, spec.slug) != token  # every page gets its own token


def test_a_double_click_sent_at_once_makes_one_submission(answer, candidate_client, bank, app):
    spec = _first(bank, "text")
    token = _form_token(candidate_client, spec.slug)
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda _: answer(spec.slug, answer="ASGI is the async interface.",
                                                   form_token=token), range(2)))
    assert [r.status_code for r in responses] == [303, 303], [r.text[:300] for r in responses]
    assert responses[0].headers["location"] == responses[1].headers["location"] and _count(app) == 1


def test_a_malformed_form_token_is_422(answer, bank, app):
    response = answer(_first(bank, "text").slug, answer="An answer.", form_token="not a token!")
    assert response.status_code == 422 and _count(app) == 0


def test_the_model_answer_waits_behind_a_click_after_a_miss(answer, candidate_client, bank, drain):
    spec = _first(bank, "text")
    strong = next(c.answer for c in spec.calibration if c.expect == "strong")
    missed = answer(spec.slug, answer="I am not sure, sorry.").headers["location"]
    solved = answer(spec.slug, answer=strong).headers["location"]
    drain()
    assert '<details class="model-answer">' in candidate_client.get(missed).text  # closed: no spoiler
    assert "try again first?" in candidate_client.get(missed).text
    assert '<details class="model-answer" open>' in candidate_client.get(solved).text
