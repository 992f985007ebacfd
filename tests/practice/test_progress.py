"""Progress statistics, FSRS scheduling, practice picks, mock interviews and query counts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from tests.helpers import wait_for
from webapp.core.db import session_scope, utcnow
from webapp.identity.models import Role, User
from webapp.practice.models import PracticeCard
from webapp.practice.scheduling import rating_for, record_graded_answer
from webapp.practice.stats import progress_for
from webapp.practice.topics import practice_state
from webapp.questions.models import Question
from webapp.submissions.models import Submission, SubmissionStatus

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("score, rating", [(0, 1), (39, 1), (40, 2), (69, 2), (70, 3), (89, 3), (90, 4), (100, 4)])
def test_grade_to_rating_mapping(score: int, rating: int) -> None:
    assert int(rating_for(score)) == rating


def _questions(app, n=3):
    with session_scope(app.state.db.read_session) as db:
        return list(db.scalars(select(Question).where(Question.kind == "text").order_by(Question.id).limit(n)))


def _answer(app, user, question, score, at):
    with session_scope(app.state.db.write_session) as db:
        db.add(Submission(user_id=user.id, question_id=question.id, revision_id=question.current_revision_id,
                          kind=question.kind, answer_text="x", status=SubmissionStatus.graded, score=score,
                          queued_at=at, finished_at=at))
        record_graded_answer(db, user_id=user.id, question_id=question.id, score=score, answered_at=at)


def _card(app, user, question) -> PracticeCard:
    with session_scope(app.state.db.read_session) as db:
        return db.scalar(select(PracticeCard).where(PracticeCard.user_id == user.id,
                                                    PracticeCard.question_id == question.id))


def test_bad_answers_come_back_sooner_over_simulated_weeks(app, bank, make_user) -> None:
    user = make_user()
    weak, strong = _questions(app, 2)
    day = NOW
    for _ in range(4):  # answer each whenever it is due, for weeks
        _answer(app, user, weak, 20, day)
        _answer(app, user, strong, 95, day)
        day = _card(app, user, weak).due
    weak_card, strong_card = _card(app, user, weak), _card(app, user, strong)
    assert weak_card.due - weak_card.last_review <= timedelta(days=2)
    assert strong_card.due - NOW >= timedelta(days=30)
    assert weak_card.reviews == 4 and weak_card.last_rating == 1


def test_older_answers_and_clock_changes_do_not_rewind_a_card(app, bank, make_user) -> None:
    user = make_user()
    [question] = _questions(app, 1)
    _answer(app, user, question, 95, NOW)
    before = _card(app, user, question)
    _answer(app, user, question, 10, NOW - timedelta(days=3))  # a regrade of an old answer, or a clock step back
    after = _card(app, user, question)
    assert (after.due, after.reviews) == (before.due, before.reviews)


def _wait_until_blocked_or_done(app, thread: threading.Thread) -> None:
    """PostgreSQL shows a blocked transaction in pg_locks; SQLite's writers queue out of sight."""
    if app.state.db.is_sqlite:
        return
    with app.state.db.engine.connect() as connection:

        def blocked_or_done() -> bool:
            connection.rollback()  # a fresh snapshot of pg_locks each time
            return not thread.is_alive() or bool(connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar())

        wait_for(blocked_or_done, timeout=10, interval=0.02, message="the second answer to finish or wait")


def test_two_answers_graded_at_once_both_review_one_card(app, bank, make_user) -> None:
    user = make_user()
    [question] = _questions(app, 1)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            _answer(app, user, question, 30, NOW + timedelta(minutes=1))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    with session_scope(app.state.db.write_session) as db:  # the first answer's grade, not yet committed
        record_graded_answer(db, user_id=user.id, question_id=question.id, score=95, answered_at=NOW)
        other = threading.Thread(target=second)
        other.start()
        _wait_until_blocked_or_done(app, other)
    other.join(30)
    assert not errors, errors
    card = _card(app, user, question)
    assert (card.reviews, card.last_score) == (2, 30)


def test_stats_on_a_hand_built_history(app, bank, make_user) -> None:
    user = make_user()
    q1, q2, q3 = _questions(app, 3)
    _answer(app, user, q1, 40, NOW - timedelta(days=2))
    _answer(app, user, q1, 80, NOW - timedelta(days=1))  # best recent score counts
    _answer(app, user, q2, 60, NOW)
    _answer(app, user, q3, 100, NOW - timedelta(days=200))  # too old for mastery
    with session_scope(app.state.db.read_session) as db:
        me = db.get(User, user.id)
        progress = progress_for(db, user=me, viewer=me, now=NOW)
    by_slug = {t.slug: t for t in progress.topics}
    topic = by_slug[q1.topic.slug] if q1.topic_id == q2.topic_id else None
    if topic:
        assert topic.tried == 2 and topic.mastery == 70
    else:
        assert by_slug[q1.topic.slug].mastery == 80 and by_slug[q2.topic.slug].mastery == 60
    assert progress.streak == 3
    assert [d.attempts for d in progress.days[-3:]] == [1, 1, 1]
    assert progress.days[-2].average == 80.0
    assert len(progress.days) == 56


def test_streak_breaks_on_a_missed_day(app, bank, make_user) -> None:
    user = make_user()
    [question] = _questions(app, 1)
    for days_ago in (0, 1, 3):
        _answer(app, user, question, 50, NOW - timedelta(days=days_ago, hours=1))
    with session_scope(app.state.db.read_session) as db:
        me = db.get(User, user.id)
        assert progress_for(db, user=me, viewer=me, now=NOW).streak == 2


def test_practice_serves_due_then_weak_then_new(app, bank, make_user) -> None:
    user = make_user()
    q1, q2 = _questions(app, 2)
    with session_scope(app.state.db.read_session) as db:
        first = practice_state(db, user=db.get(User, user.id), now=NOW)
    assert first.next.reason == "new" and first.due_today == 0
    _answer(app, user, q1, 10, NOW)
    with session_scope(app.state.db.read_session) as db:
        soon = practice_state(db, user=db.get(User, user.id), now=NOW + timedelta(hours=1))
    assert soon.next.reason in ("weak", "new") and soon.next.question.id != q1.id
    assert soon.next_due == _card(app, user, q1).due
    with session_scope(app.state.db.read_session) as db:
        later = practice_state(db, user=db.get(User, user.id), now=NOW + timedelta(days=2))
    assert later.next.reason == "due" and later.next.question.id == q1.id and later.due_today == 1


def test_grading_updates_the_schedule(candidate_client, app, bank) -> None:
    from tests.helpers import csrf_token

    spec = next(q for q in bank.questions if q.kind == "text")
    candidate_client.post(f"/questions/{spec.slug}/submissions", data={
        "answer": "Not much to say.", "csrf_token": csrf_token(candidate_client, f"/questions/{spec.slug}")})
    while app.state.grader.process_one():
        pass
    with session_scope(app.state.db.read_session) as db:
        card = db.scalar(select(PracticeCard))
        assert card is not None and card.last_rating == 1
    page = candidate_client.get("/practice").text
    assert "Next one due" in page and (card.due - card.last_review) == timedelta(days=1)


def test_progress_page_renders_charts_and_staff_can_open_it(client, app, bank, make_user, make_client) -> None:
    from tests.conftest import PASSWORD
    from tests.helpers import login

    user = make_user()
    [question] = _questions(app, 1)
    _answer(app, user, question, 70, utcnow())
    login(client, user.email, PASSWORD)
    page = client.get("/progress").text
    assert page.count('<svg class="chart"') == 3 and "<title id=\"mastery-title\">" in page
    assert "<caption>Mastery per topic</caption>" in page
    assert client.get(f"/progress/{user.id}").status_code == 403
    interviewer = make_client()
    login(interviewer, make_user(Role.interviewer).email, PASSWORD)
    assert user.display_name in interviewer.get(f"/progress/{user.id}").text
    assert interviewer.get("/progress/999999").status_code == 404


def _count_queries(app, client, path: str) -> int:
    statements: list[str] = []
    engine = app.state.db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def test_progress_queries_are_bounded(client, app, bank, make_user) -> None:
    from tests.conftest import PASSWORD
    from tests.helpers import login

    user = make_user()
    questions = _questions(app, 3)
    login(client, user.email, PASSWORD)
    _answer(app, user, questions[0], 50, utcnow())
    few = _count_queries(app, client, "/progress")
    with session_scope(app.state.db.write_session) as db:
        now = utcnow()
        db.add_all(Submission(user_id=user.id, question_id=q.id, revision_id=q.current_revision_id, kind=q.kind,
                              answer_text="x", status=SubmissionStatus.graded, score=n % 101,
                              queued_at=now - timedelta(minutes=n * 7), finished_at=now)
                   for n in range(5000) for q in [questions[n % 3]])
    many = _count_queries(app, client, "/progress")
    assert many == few and many <= 15, (few, many)
    assert _count_queries(app, client, "/") <= 25


@pytest.mark.sandbox
def test_mock_interview_end_to_end(candidate_client, app, bank) -> None:
    import re

    from tests.helpers import csrf_token

    token = csrf_token(candidate_client, "/practice/mock")
    bad = candidate_client.post("/practice/mock", data={"length": "7", "minutes": "30", "csrf_token": token})
    assert bad.status_code == 422
    narrow = candidate_client.post("/practice/mock", data={"length": "8", "minutes": "15", "topics": ["cors"],
                                                           "csrf_token": token}, follow_redirects=False)
    assert narrow.status_code == 422 and "widen the topics" in narrow.text
    started = candidate_client.post("/practice/mock", data={"length": "3", "minutes": "15", "csrf_token": token},
                                    follow_redirects=False)
    assert started.status_code == 303
    take = candidate_client.get(started.headers["location"]).text
    attempt = re.search(r"/assessments/take/(\d+)/questions/1", take)
    assert attempt and "in progress" in take
    slug = re.search(r'action="/questions/([a-z0-9-]+)/submissions"',
                     candidate_client.get(attempt.group(0)).text).group(1)
    candidate_client.post(f"/questions/{slug}/submissions", data={
        "answer": "I am not sure.", "choice": "a", "code": "x = 1", "attempt": attempt.group(1),
        "csrf_token": token})
    while app.state.grader.process_one():
        pass
    done = candidate_client.post(f"/assessments/take/{attempt.group(1)}/submit", data={"csrf_token": token},
                                 follow_redirects=False)
    assert done.headers["location"] == f"/practice/mock/{attempt.group(1)}"  # a mock's results, not an interviewer
    summary = candidate_client.get(f"/practice/mock/{attempt.group(1)}").text
    assert "Mock interview submitted" in summary and "Your interviewer" not in summary
    assert "Total:" in summary and "not answered" in summary
    assert "/practice/mock/" + attempt.group(1) in candidate_client.get("/practice/mock").text
    assert "Mock interview" not in candidate_client.get("/assessments").text
