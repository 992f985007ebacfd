"""Every route, every parameter, every role: hostile values never get a 5xx or a traceback.

The routes come from the app's own table (a new route is fuzzed without anyone listing it),
their parameters from FastAPI's dependants and from the forms on the rendered pages (fields
a route reads from ``request.form()`` itself); see tests/security/fuzzing.py. Each parameter
gets the values of its kind (huge, negative and Unicode numbers, NUL, invalid UTF-8, 10,000
characters, impossible dates, empty and missing values, wrong types) over a request that is
otherwise valid for the role, with a valid CSRF token, so each value reaches the route rather
than a wall in front of it. All the values go to the first role a route lets in; the others it
lets in get five per parameter, the roles it refuses two (the same ones every run).
Runs on whichever database the suite runs on (PostgreSQL with REHEARSE_TEST_DATABASE_URL).
"""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.helpers import login
from tests.security.fuzzing import (
    MISSING,
    Form,
    Param,
    Value,
    api_routes,
    encoded,
    page_forms,
    route_params,
    sample,
    urlencoded,
)
from webapp.admin.question_views import code_check
from webapp.assessments.models import Assessment, AssessmentAttempt, AssessmentQuestion
from webapp.core.db import session_scope, utcnow
from webapp.identity.models import Role
from webapp.questions.models import BankImport
from webapp.review.models import Review, ReviewComment, ReviewState
from webapp.submissions.models import SubmissionStatus

ROLES = ("anonymous", "candidate", "interviewer", "admin")
# These routes run the code question's reference check, which grades in the sandbox (seconds
# a request): the fuzzer replaces the check by "no sandbox here" (code_check -> None), so they
# are fuzzed for their inputs without starting that work. (Answers and regrades only queue
# jobs: the test app runs no grader threads.)
SANDBOX_CHECK = {"run_reference", "create_question", "update_question", "change_status"}
ENDS_SESSION = {"logout", "logout_everywhere"}  # fuzzed last: they sign the client out
REFUSED = (401, 403, 404)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
MAX_FORM_FIELDS = 12  # of a page's form (the question editor has dozens), sampled per route


class Fuzzer:
    """One browser per role; every answer is checked for a 5xx or a traceback."""

    def __init__(self, clients: dict[str, TestClient], valid: dict[str, Any], caplog) -> None:
        self.clients, self.valid, self.caplog = clients, valid, caplog
        self.tokens: dict[str, str] = {}
        self.forms: dict[str, Form] = {}  # by action path
        self.failures: dict[str, list[str]] = {}  # what failed (route, parameter, error) -> who and with what
        self.sent = 0
        self.fully_fuzzed: set[tuple[str, str]] = set()  # (method, path): one role got every value

    def token(self, role: str, fresh: bool = False) -> str:
        if fresh or role not in self.tokens:
            match = TOKEN.search(self.clients[role].get("/login").text)
            self.tokens[role] = match.group(1) if match else ""
        return self.tokens[role]

    def path(self, route, override: tuple[str, Value] | None = None) -> str:
        values = {name: encoded(self.valid.get(name, 1)) for name in route.param_convertors}
        if override:
            values[override[0]] = encoded(override[1])
        return route.path_format.format(**values)

    def fail(self, what: str, example: str) -> None:
        self.failures.setdefault(what, []).append(example)

    def send(self, role: str, method: str, path: str, *, query: str = "", form: dict[str, list[Value]] | None = None,
             files: dict[str, Any] | None = None, what: str = "", value: Value = "") -> int:
        client, url = self.clients[role], path + (f"?{query}" if query else "")
        self.caplog.clear()
        self.sent += 1
        for attempt in (1, 2):
            headers = {"x-csrf-token": self.token(role, fresh=attempt == 2)} if method != "GET" else {}
            try:
                if files is not None:
                    response = client.request(method, url, data=dict(form or {}), files=files, headers=headers,
                                              follow_redirects=False)
                elif method == "GET":
                    response = client.get(url, follow_redirects=False)
                else:
                    headers["content-type"] = "application/x-www-form-urlencoded"
                    response = client.request(method, url, content=urlencoded(form or {}), headers=headers,
                                              follow_redirects=False)
            except Exception as exc:  # a dropped connection, an exception past every handler
                self.fail(f"{what}: {type(exc).__name__}: {str(exc)[:200]}", f"{role} {str(value)[:30]!r}")
                return 0
            if not (response.status_code == 403 and "security token" in response.text):
                break
        if response.status_code >= 500 or "Traceback" in response.text:
            logged = [f"{type(r.exc_info[1]).__name__}: {str(r.exc_info[1])[:160]}" for r in self.caplog.records
                      if r.exc_info and r.exc_info[1]]
            self.fail(f"{what}: {response.status_code} {''.join(logged[-1:])}", f"{role} {str(value)[:30]!r}")
        if method == "GET" and response.status_code == 200:
            for found in page_forms(response.text):
                self.forms.setdefault(found.action, found)
        return response.status_code

    def fuzz(self, route, method: str, role: str) -> None:
        params = route_params(route)
        path = self.path(route)
        form_of_page = self.forms.get(path)
        baseline: dict[str, list[Value]] = {k: v for k, v in (form_of_page.fields if form_of_page else {}).items() if v}
        declared = {p.name for p in params if p.where == "form"}
        offered = set(baseline) | set(form_of_page.options if form_of_page else ())
        numbered_fields = sorted(n for n in offered - declared if form_of_page and form_of_page.numbered(n))
        page_fields = numbered_fields + sample(sorted(offered - declared - set(numbered_fields)), MAX_FORM_FIELDS,
                                               route.name)
        params += [Param(name, "form", "text") for name in page_fields]
        file_params = [p.name for p in params if p.kind == "file"]

        def send(*, path: str = path, query: str = "", form: dict[str, list[Value]] = baseline, what: str,
                 value: Value = "") -> int:
            form = {key: list(values) for key, values in form.items()}
            files = {name: ("answer.py", b"print(1)\n") for name in file_params} if file_params else None
            if files is not None:
                for name in file_params:  # a file field's hostile value is its content
                    if name in form:
                        value = form.pop(name)[0]
                        files[name] = ("answer.py", value if isinstance(value, bytes) else str(value).encode())
            return self.send(role, method, path, query=query, form=dict(form) if method != "GET" else None,
                             files=files, what=f"{method} {route.path} {what}", value=value)

        status = send(what="(baseline)")
        if status in REFUSED or (status == 303 and role == "anonymous"):
            k = 2
        elif (method, route.path) in self.fully_fuzzed:
            k = 5
        else:
            k = 100
            self.fully_fuzzed.add((method, route.path))
        for param in params:
            numbered = form_of_page.numbered(param.name) if form_of_page and param.where == "form" else []
            for value in sample(param.values() + numbered, k, f"{route.name}.{param.name}"):
                what = f"{param.where} {param.name}"
                if param.where == "path":
                    send(path=self.path(route, (param.name, value)), what=what, value=value)
                elif param.where == "query":
                    send(query="" if value is MISSING else f"{encoded(param.name)}={encoded(value)}", what=what,
                         value=value)
                else:
                    changed = {key: values for key, values in baseline.items() if key != param.name}
                    if value is not MISSING:
                        changed[param.name] = [value] * (50 if param.kind == "list" and value == "" else 1)  # many
                    send(form=changed, what=what, value=value)
        if method == "POST" and status not in REFUSED:  # the same form as multipart, with a NUL in a field
            self.send(role, method, path, form={**baseline, "field": ["a\x00"]}, files={"f": ("a.txt", b"x")},
                      what=f"{method} {route.path} (multipart with NUL)")


@pytest.fixture
def world(app, bank, make_user, make_submission):
    """A candidate with a graded answer and an assessment in progress, the interviewer who runs it
    (reviewing the answer, with a comment on it), an admin, a bystander, a staged import."""
    users = {role: make_user(Role(role), email=f"{role}@example.com") for role in ROLES[1:]}
    bystander = make_user(email="bystander@example.com")
    submission = make_submission(users["candidate"], review=ReviewState.in_progress, answer_text="Mine.", score=50,
                                 status=SubmissionStatus.graded)
    with session_scope(app.state.db.write_session) as db:
        db.execute(update(Review).values(reviewer_id=users["interviewer"].id, claimed_at=utcnow(),
                                         claim_expires_at=utcnow() + timedelta(hours=1)))
        assessment = Assessment(title="Fuzzed", owner_id=users["interviewer"].id, time_limit_minutes=30,
                                invite_code="fuzz-code",
                                items=[AssessmentQuestion(question_id=submission.question_id, position=1)])
        staged = BankImport(filename="x.yaml", content="questions: []")
        db.add_all([assessment, staged])
        db.flush()
        attempt = AssessmentAttempt(assessment_id=assessment.id, candidate_id=users["candidate"].id,
                                    started_at=utcnow(), deadline_at=utcnow() + timedelta(minutes=30))
        comment = ReviewComment(submission_id=submission.id, author_id=users["interviewer"].id, line=None, body="Hm.")
        db.add_all([attempt, comment])
        db.flush()
        slug = next(q.slug for q in bank.questions if q.kind == "text")
        valid = {"slug": slug, "question_id": submission.question_id, "submission_id": submission.id,
                 "user_id": bystander.id, "revision_id": submission.revision_id, "import_id": staged.id,
                 "assessment_id": assessment.id, "attempt_id": attempt.id, "comment_id": comment.id,
                 "number": 1, "position": 1}
    return users, valid


def _depends_on(dependant, call) -> bool:
    return dependant.call is call or any(_depends_on(sub, call) for sub in dependant.dependencies)


def test_the_routes_that_reach_the_sandbox_are_the_ones_named(app) -> None:
    assert {r.name for r in api_routes(app) if _depends_on(r.dependant, code_check)} == SANDBOX_CHECK


def test_no_route_answers_a_hostile_value_with_a_server_error(app, world, caplog) -> None:
    users, valid = world
    app.dependency_overrides[code_check] = lambda: None  # see SANDBOX_CHECK
    # Not make_client: a server error must come back as the 500 a browser sees (and be reported
    # with the others), not be raised into the test at the first one.
    clients = {role: TestClient(app, raise_server_exceptions=False) for role in ROLES}
    for role, user in users.items():
        login(clients[role], user.email, PASSWORD)
    caplog.set_level(logging.ERROR)  # the logged exception of a 5xx names its cause in the report
    fuzzer = Fuzzer(clients, valid, caplog)
    routes = [(route, method) for route in api_routes(app) for method in sorted(route.methods - {"HEAD"})]
    routes.sort(key=lambda item: (item[1] != "GET", item[0].name in ENDS_SESSION))  # pages first: their forms
    started = time.monotonic()
    for route, method in routes:
        for role in ROLES:
            fuzzer.fuzz(route, method, role)
    elapsed = time.monotonic() - started
    for client in clients.values():
        client.close()
    assert fuzzer.sent > 2000, f"only {fuzzer.sent} requests: the fuzzer found too few parameters"
    report = [f"{what}\n    {len(who)}x: {', '.join(sorted(set(who))[:6])}" for what, who in fuzzer.failures.items()]
    assert not report, (f"{sum(map(len, fuzzer.failures.values()))} of {fuzzer.sent} requests in {elapsed:.0f} s "
                        "got a server error:\n" + "\n".join(report))
