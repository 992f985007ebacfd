"""Pages that show many answers read what each answer's feedback depends on with the answers,
never once per row from the template (what an author sees depends on the answer's assessment)."""

from __future__ import annotations

from sqlalchemy import event

from tests.conftest import PASSWORD
from tests.helpers import login
from webapp.assessments.models import Assessment, AssessmentAttempt, CandidateFeedback
from webapp.core.db import session_scope, utcnow
from webapp.identity.models import Role
from webapp.submissions.models import SubmissionStatus


def _assessment_answers(app, make_user, make_submission, candidate, count: int) -> None:
    owner = make_user(Role.interviewer, email=f"iv{count}@example.com")
    for n in range(count):
        with session_scope(app.state.db.write_session) as db:
            assessment = Assessment(title=f"Round {n}", owner_id=owner.id, time_limit_minutes=30,
                                    invite_code=f"code-{count}-{n}", candidate_feedback=CandidateFeedback.score)
            db.add(assessment)
            db.flush()
            attempt = AssessmentAttempt(assessment_id=assessment.id, candidate_id=candidate.id,
                                        started_at=utcnow(), submitted_at=utcnow())
            db.add(attempt)
            db.flush()
            attempt_id = attempt.id
        make_submission(candidate, attempt_id=attempt_id, answer_text="An answer.", status=SubmissionStatus.graded,
                        score=60)


def _statements(app, client, path: str) -> int:
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(app.state.db.engine, "before_cursor_execute", listener)
    try:
        page = client.get(path)
        assert page.status_code == 200 and "60" in page.text  # the scores are shown (feedback: score)
    finally:
        event.remove(app.state.db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_history_costs_the_same_queries_for_one_or_many_assessment_answers(app, bank, make_user, make_client,
                                                                               make_submission) -> None:
    candidate = make_user(email="cand@example.com")
    client = make_client()
    login(client, candidate.email, PASSWORD)
    _assessment_answers(app, make_user, make_submission, candidate, 1)
    one = _statements(app, client, "/submissions")
    _assessment_answers(app, make_user, make_submission, candidate, 6)
    assert _statements(app, client, "/submissions") == one
