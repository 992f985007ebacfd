"""/progress/{id} shows an interviewer only the answers they may open: the rule of the answer pages."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import login
from webapp.assessments.models import Assessment, AssessmentAttempt, AssessmentQuestion
from webapp.core.db import session_scope, utcnow
from webapp.identity.models import Role
from webapp.questions.models import Question
from webapp.submissions.models import Submission, SubmissionStatus


def _distinct_topic_questions(app, n):
    with session_scope(app.state.db.read_session) as db:
        picked: dict[int, Question] = {}
        for question in db.scalars(select(Question).where(Question.kind == "text").order_by(Question.id)):
            picked.setdefault(question.topic_id, question)
        questions = list(picked.values())[:n]
        for question in questions:
            question.topic  # noqa: B018 - loaded for use after the session
        return questions


def _answer(app, *, user, question, score, assessment_owner=None):
    """A graded answer, in practice or inside an ended assessment run by ``assessment_owner``."""
    now = utcnow()
    with session_scope(app.state.db.write_session) as db:
        attempt_id = None
        if assessment_owner is not None:
            assessment = Assessment(title=f"Screen by {assessment_owner.email}", owner_id=assessment_owner.id,
                                    time_limit_minutes=30, invite_code=f"code-{assessment_owner.id}-{question.id}",
                                    items=[AssessmentQuestion(question_id=question.id, position=1)])
            db.add(assessment)
            db.flush()
            attempt = AssessmentAttempt(assessment_id=assessment.id, candidate_id=user.id,
                                        started_at=now - timedelta(minutes=20), deadline_at=now + timedelta(minutes=10),
                                        submitted_at=now - timedelta(minutes=1))
            db.add(attempt)
            db.flush()
            attempt_id = attempt.id
        submission = Submission(user_id=user.id, question_id=question.id, revision_id=question.current_revision_id,
                                kind=question.kind, answer_text="An answer.", status=SubmissionStatus.graded,
                                score=score, attempt_id=attempt_id, queued_at=now - timedelta(minutes=5),
                                finished_at=now - timedelta(minutes=5))
        db.add(submission)
        db.flush()
        return submission.id


def _mastery(page: str, topic: str) -> str:
    row = re.search(rf'<a href="/questions\?topic={topic}">[^<]+</a></td><td>(\d+) / \d+</td><td>([^<]+)</td>', page)
    return f"{row.group(1)} tried, {row.group(2)}"


def test_an_interviewer_sees_only_the_answers_they_may_open(app, bank, make_user, make_client):
    candidate = make_user(email="cand@example.com")
    mine = make_user(Role.interviewer, email="iv@example.com")
    theirs = make_user(Role.interviewer, email="iv2@example.com")
    practice_q, mine_q, theirs_q = _distinct_topic_questions(app, 3)
    practice_id = _answer(app, user=candidate, question=practice_q, score=61)
    mine_id = _answer(app, user=candidate, question=mine_q, score=72, assessment_owner=mine)
    theirs_id = _answer(app, user=candidate, question=theirs_q, score=93, assessment_owner=theirs)
    interviewer, admin = make_client(), make_client()
    login(interviewer, mine.email, PASSWORD)
    login(admin, make_user(Role.admin).email, PASSWORD)

    page = interviewer.get(f"/progress/{candidate.id}").text
    linked = {int(i) for i in re.findall(r'href="/submissions/(\d+)"', page)}
    assert linked == {practice_id, mine_id}
    assert practice_q.title in page and mine_q.title in page and theirs_q.title not in page
    assert "93/100" not in page and "<td>2</td><td>66.5</td>" in page  # answers and average of the day
    assert _mastery(page, theirs_q.topic.slug) == "0 tried, —" and _mastery(page, mine_q.topic.slug) == "1 tried, 72"
    for submission_id in linked:  # every row it shows opens
        assert interviewer.get(f"/submissions/{submission_id}", follow_redirects=False).status_code == 200
    assert interviewer.get(f"/submissions/{theirs_id}", follow_redirects=False).status_code == 404

    everything = admin.get(f"/progress/{candidate.id}").text
    assert {int(i) for i in re.findall(r'href="/submissions/(\d+)"', everything)} == {practice_id, mine_id, theirs_id}
    assert _mastery(everything, theirs_q.topic.slug) == "1 tried, 93" and "<td>3</td><td>75.3</td>" in everything
