"""Every route × every role, against objects that belong to someone else.

The rules are keyed by the app's own route table: a new route without a rule fails here.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.helpers import csrf_token, login
from webapp.assessments.models import Assessment, AssessmentAttempt, AssessmentQuestion
from webapp.core.db import session_scope, utcnow
from webapp.grading.models import ExampleRun
from webapp.identity.models import Role
from webapp.integrity.models import SimilarityMatch
from webapp.interviews.models import Interview, InterviewQuestion
from webapp.mail.models import OutboxMessage
from webapp.questions.models import BankImport, Question
from webapp.review.models import ReviewComment
from webapp.submissions.models import Submission, SubmissionStatus

ROLES = ("anonymous", "candidate", "interviewer", "admin")
OK = "ok"  # allowed: any status but 401/403/404 and no 5xx
# Expected outcome per role, in ROLES order.
PUBLIC = (OK, OK, OK, OK)
USER = (303, OK, OK, OK)
STAFF = (303, 403, OK, OK)
ADMIN = (303, 403, 403, OK)
OTHERS_SUBMISSION = (303, 404, OK, OK)
OTHERS_COMMENT = (303, 403, 404, 404)
OTHERS_SUBMISSION_OWNER_ONLY = (303, 404, 404, 404)
OTHERS_ATTEMPT = (303, 404, 404, 404)
OTHERS_ASSESSMENT = (303, 403, 404, OK)
OTHERS_RUN = (303, 404, 404, 404)
OTHERS_INTERVIEW = (303, 404, 404, OK)  # an interview neither of the signed-in users is in; admins may join
FORGED_LINK = (404, 404, 404, 404)  # a password-reset link nobody was sent

RULES: dict[tuple[str, str], tuple[object, ...]] = {
    ("GET", "/"): PUBLIC, ("GET", "/healthz"): PUBLIC, ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/register"): PUBLIC, ("POST", "/register"): PUBLIC, ("POST", "/register/validate"): PUBLIC,
    ("GET", "/password/forgot"): PUBLIC, ("POST", "/password/forgot"): PUBLIC,
    ("GET", "/password/reset/{token}"): FORGED_LINK, ("POST", "/password/reset/{token}"): FORGED_LINK,
    ("GET", "/login"): PUBLIC, ("POST", "/login"): PUBLIC, ("POST", "/logout"): PUBLIC,
    ("POST", "/account/logout-everywhere"): USER, ("GET", "/account/password"): USER,
    ("POST", "/account/password"): USER,
    ("GET", "/account/time-zone"): USER, ("POST", "/account/time-zone"): USER,
    ("GET", "/account/email"): USER, ("POST", "/account/email"): USER,
    ("GET", "/questions"): PUBLIC, ("GET", "/questions/{slug}"): PUBLIC,
    ("POST", "/questions/{slug}/submissions"): USER,
    # {slug} is a written question (no examples to run), {run_id} someone else's run.
    ("POST", "/questions/{slug}/runs"): OTHERS_RUN, ("GET", "/questions/{slug}/runs/{run_id}"): OTHERS_RUN,
    ("GET", "/submissions"): USER, ("GET", "/submissions/{submission_id}"): OTHERS_SUBMISSION,
    ("GET", "/submissions/{submission_id}/status"): OTHERS_SUBMISSION,
    ("POST", "/submissions/{submission_id}/review-request"): OTHERS_SUBMISSION_OWNER_ONLY,
    ("GET", "/review"): STAFF, ("GET", "/review/{submission_id}"): STAFF,
    ("POST", "/review/{submission_id}"): STAFF, ("POST", "/review/{submission_id}/claim"): STAFF,
    ("GET", "/review/{submission_id}/comment-form"): STAFF, ("POST", "/review/{submission_id}/comments"): STAFF,
    ("GET", "/review/comments/{comment_id}/edit"): OTHERS_COMMENT,
    ("POST", "/review/comments/{comment_id}"): OTHERS_COMMENT,
    ("GET", "/progress"): USER, ("GET", "/progress/{user_id}"): STAFF, ("GET", "/practice"): USER,
    ("POST", "/practice/topics"): USER, ("GET", "/practice/mock"): USER, ("POST", "/practice/mock"): USER,
    ("GET", "/practice/mock/{attempt_id}"): OTHERS_ATTEMPT,
    ("GET", "/assessments"): USER, ("GET", "/assessments/new"): STAFF, ("POST", "/assessments/new"): STAFF,
    ("GET", "/assessments/new/questions"): STAFF, ("POST", "/assessments/new/picker"): STAFF,
    ("GET", "/assessments/join"): USER, ("POST", "/assessments/join"): USER,
    ("GET", "/assessments/take/{attempt_id}"): OTHERS_ATTEMPT,
    ("POST", "/assessments/take/{attempt_id}/start"): OTHERS_ATTEMPT,
    ("GET", "/assessments/take/{attempt_id}/questions/{position}"): OTHERS_ATTEMPT,
    ("POST", "/assessments/take/{attempt_id}/submit"): OTHERS_ATTEMPT,
    ("POST", "/assessments/take/{attempt_id}/questions/{position}/signals"): OTHERS_ATTEMPT,
    ("GET", "/assessments/{assessment_id}"): OTHERS_ASSESSMENT,
    ("POST", "/assessments/{assessment_id}/invite"): OTHERS_ASSESSMENT,
    ("POST", "/assessments/{assessment_id}/feedback"): OTHERS_ASSESSMENT,
    ("GET", "/assessments/{assessment_id}/report/{attempt_id}"): OTHERS_ASSESSMENT,
    ("GET", "/assessments/{assessment_id}/report/{attempt_id}/similar/{match_id}"): OTHERS_ASSESSMENT,
    ("GET", "/assessments/{assessment_id}/results.csv"): OTHERS_ASSESSMENT,
    ("GET", "/interviews"): USER, ("POST", "/interviews"): STAFF,
    **{(method, path): OTHERS_INTERVIEW for method, path in [
        ("GET", "/interviews/{interview_id}"), ("GET", "/interviews/{interview_id}/question"),
        ("POST", "/interviews/{interview_id}/questions"), ("POST", "/interviews/{interview_id}/end"),
        ("GET", "/interviews/{interview_id}/runs"), ("POST", "/interviews/{interview_id}/runs"),
        ("POST", "/interviews/{interview_id}/notes"), ("GET", "/interviews/{interview_id}/replay"),
        ("GET", "/interviews/{interview_id}/replay.json"),
    ]},
    **{(method, path): ADMIN for method, path in [
        ("GET", "/admin"), ("GET", "/admin/users"), ("POST", "/admin/users/{user_id}/role"),
        ("POST", "/admin/users/{user_id}/active"), ("POST", "/admin/users/{user_id}/password-reset"),
        ("GET", "/admin/audit"), ("GET", "/admin/outbox"), ("POST", "/admin/outbox/{message_id}/retry"),
        ("GET", "/admin/queue"), ("POST", "/admin/queue/requeue"),
        ("GET", "/admin/queue/regrade/{revision_id}"), ("POST", "/admin/queue/regrade/{revision_id}"),
        ("GET", "/admin/calibration"), ("GET", "/admin/calibration/{question_id}"),
        ("POST", "/admin/calibration/examples"),
        ("GET", "/admin/questions"), ("GET", "/admin/questions/new"), ("POST", "/admin/questions/new"),
        ("GET", "/admin/questions/{slug}/edit"), ("POST", "/admin/questions/{slug}/edit"),
        ("POST", "/admin/questions/preview"), ("POST", "/admin/questions/{slug}/status"),
        ("GET", "/admin/questions/{slug}/revisions"), ("GET", "/admin/questions/{slug}/revisions/{number}"),
        ("GET", "/admin/questions/import"), ("POST", "/admin/questions/import"),
        ("GET", "/admin/questions/import/{import_id}"), ("POST", "/admin/questions/import/{import_id}/apply"),
        ("GET", "/admin/questions/export"),
        ("POST", "/admin/questions/run-reference"),
    ]},
}


def app_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route, including those of included routers."""
    found: list[tuple[str, str]] = []

    def walk(routes) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif hasattr(route, "methods") and route.methods:
                found.extend((m, route.path) for m in sorted(route.methods) if m != "HEAD")

    walk(app.routes)
    return found


def test_every_route_has_a_rule(app) -> None:
    missing = [r for r in app_routes(app) if r not in RULES]
    assert missing == [], f"routes without an access rule: {missing}"


@pytest.fixture
def others_objects(app, bank, make_user):
    """Objects that belong to people who are not the signed-in test users."""
    owner = make_user(email="owner@example.com")
    author = make_user(Role.interviewer, email="author@example.com")
    victim = make_user(email="victim@example.com")
    with session_scope(app.state.db.write_session) as db:
        question = db.scalar(select(Question).where(Question.kind == "text").limit(1))
        submission = Submission(user_id=owner.id, question_id=question.id, revision_id=question.current_revision_id,
                                kind=question.kind, answer_text="Mine.", status=SubmissionStatus.graded, score=50)
        assessment = Assessment(title="Theirs", owner_id=author.id, time_limit_minutes=30, invite_code="matrix-code",
                                items=[AssessmentQuestion(question_id=question.id, position=1)])
        db.add_all([submission, assessment])
        db.flush()
        attempt = AssessmentAttempt(assessment_id=assessment.id, candidate_id=owner.id, started_at=utcnow(),
                                    deadline_at=utcnow() + timedelta(minutes=30))
        staged = BankImport(filename="x.yaml", content="questions: []")
        refused = OutboxMessage(to="victim@example.com", subject="Theirs", body="Hello", attempts=1,
                                error="SMTPDataError: refused", next_attempt_at=utcnow() + timedelta(minutes=1))
        db.add_all([attempt, staged, refused])
        db.flush()
        comment = ReviewComment(submission_id=submission.id, author_id=author.id, line=None, body="Theirs.")
        run = ExampleRun(user_id=owner.id, revision_id=question.current_revision_id, code="app = None")
        interview = Interview(interviewer_id=author.id, candidate_id=owner.id, title="Theirs",
                              current_question_id=question.id,
                              questions=[InterviewQuestion(question_id=question.id,
                                                           revision_id=question.current_revision_id, position=1)])
        answer = Submission(user_id=owner.id, question_id=question.id, revision_id=question.current_revision_id,
                            kind=question.kind, answer_text="In the attempt.", attempt_id=attempt.id,
                            status=SubmissionStatus.graded, score=50)
        db.add_all([comment, run, interview, answer])
        db.flush()
        match = SimilarityMatch(first_id=submission.id, second_id=answer.id, question_id=question.id,
                                first_share=0.9, second_share=0.9)
        db.add(match)
        db.flush()
        return {"slug": question.slug, "question_id": question.id, "submission_id": submission.id, "user_id": victim.id,
                "revision_id": question.current_revision_id, "import_id": staged.id, "assessment_id": assessment.id,
                "attempt_id": attempt.id, "comment_id": comment.id, "number": 1, "position": 1,
                "message_id": refused.id, "run_id": run.id, "interview_id": interview.id, "match_id": match.id,
                "token": "not-a-signed-link"}


_EMAIL_NUMBERS = itertools.count()  # one sequence for the whole module, as the old default argument was


def _client(app, make_user, role: str) -> TestClient:
    client = TestClient(app)
    if role != "anonymous":
        login(client, make_user(Role(role), email=f"{role}{next(_EMAIL_NUMBERS)}@example.com").email, PASSWORD)
    return client


def _status(client: TestClient, method: str, path: str) -> int:
    if method == "GET":
        return client.get(path, follow_redirects=False).status_code
    token = csrf_token(client, "/login")
    return client.request(method, path, data={"csrf_token": token}, follow_redirects=False).status_code


def test_access_matrix(app, make_user, others_objects) -> None:
    clients = {role: _client(app, make_user, role) for role in ROLES}
    failures = []
    for method, template in app_routes(app):
        if template.startswith("/static") or (method, template) in {("POST", "/logout"),
                                                                    ("POST", "/account/logout-everywhere")}:
            continue  # these end the test client's own session; covered in test_sessions
        path = template.format(**others_objects)
        for role, expected in zip(ROLES, RULES[(method, template)], strict=True):
            status = _status(clients[role], method, path)
            allowed = status not in (401, 403, 404) and status < 500
            if (expected == OK and not allowed) or (expected != OK and status != expected):
                failures.append(f"{role:11} {method} {path}: got {status}, expected {expected}")
    assert failures == [], "\n".join(failures)
