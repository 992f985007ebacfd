"""Admins manage users, read the audit log and repair the grading queue from the browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.audit.service import record_event
from webapp.core.db import session_scope
from webapp.identity.models import Role, User
from webapp.submissions.models import Submission, SubmissionStatus

_post = partial(post_form, token_page="/admin")  # every form here takes its token from /admin


def _user(app, user_id):
    with session_scope(app.state.db.read_session) as db:
        return db.get(User, user_id)


def test_search_and_change_role_revokes_sessions(admin_client, make_user, make_client, app):
    grace = make_user(email="grace@example.com")
    make_user(email="alan@example.com")
    page = admin_client.get("/admin/users", params={"q": "grace"}).text
    assert "grace@example.com" in page and "alan@example.com" not in page
    browser = make_client()
    login(browser, grace.email, PASSWORD)
    assert _post(admin_client, f"/admin/users/{grace.id}/role", {"role": "interviewer"}).status_code == 303
    assert _user(app, grace.id).role == Role.interviewer
    assert browser.get("/admin", follow_redirects=False).status_code == 303  # logged out at once
    assert "interviewer" in admin_client.get("/admin/users", params={"role": "interviewer"}).text
    assert _post(admin_client, f"/admin/users/{grace.id}/role", {"role": "emperor"}).status_code == 422


def test_deactivate_and_reactivate(admin_client, make_user, make_client, app):
    user = make_user()
    browser = make_client()
    login(browser, user.email, PASSWORD)
    _post(admin_client, f"/admin/users/{user.id}/active", {"active": "false"})
    assert not _user(app, user.id).is_active
    assert browser.get("/submissions", follow_redirects=False).status_code == 303
    _post(admin_client, f"/admin/users/{user.id}/active", {"active": "true"})
    login(browser, user.email, PASSWORD)


def test_admin_cannot_lock_themselves_out(admin_client, app):
    with session_scope(app.state.db.read_session) as db:
        me = db.scalar(select(User).where(User.email == "admin@example.com"))
    response = _post(admin_client, f"/admin/users/{me.id}/active", {"active": "false"})
    assert response.status_code == 409 and "cannot deactivate your own account" in response.text
    assert _post(admin_client, f"/admin/users/{me.id}/role", {"role": "candidate"}).status_code == 409
    assert _user(app, me.id).role == Role.admin and _user(app, me.id).is_active


def test_password_reset_shows_a_one_time_password_once(admin_client, make_user, make_client):
    user = make_user()
    response = _post(admin_client, f"/admin/users/{user.id}/password-reset")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    password = re.search(r'<code class="one-time">([^<]+)</code>', response.text).group(1)
    assert password not in admin_client.get("/admin/users").text
    browser = make_client()
    assert post_form(browser, "/login", {"email": user.email, "password": PASSWORD}).status_code == 422
    login(browser, user.email, password)
    assert browser.get("/practice", follow_redirects=False).headers["location"] == "/account/password"
    assert admin_client.get("/admin/audit", params={"action": "user.password_reset"}).text.count(user.email) == 1


def test_audit_log_filters(admin_client, make_user):
    user = make_user()
    _post(admin_client, f"/admin/users/{user.id}/role", {"role": "interviewer"})
    _post(admin_client, f"/admin/users/{user.id}/active", {"active": "false"})
    everything = admin_client.get("/admin/audit").text
    assert "user.role_changed" in everything and "user.deactivated" in everything
    roles_only = admin_client.get("/admin/audit", params={"action": "user.role_changed"}).text
    assert "<code>user.deactivated</code>" not in roles_only
    by_actor = admin_client.get("/admin/audit", params={"actor": "admin@example.com"}).text
    assert "user.role_changed" in by_actor
    assert "No events match" in admin_client.get("/admin/audit", params={"actor": "system"}).text
    assert "No events match" in admin_client.get("/admin/audit", params={"since": "2100-01-01"}).text
    assert admin_client.get("/admin/audit", params={"since": "not-a-date"}).status_code == 422


def test_audit_dates_are_days_of_the_admins_time_zone(admin_client, app):
    """The page shows times in the admin's zone, so the days they type are days there too."""
    with session_scope(app.state.db.write_session) as db:  # 22:30 on 2 December in UTC: 3 December in Tokyo
        record_event(db, actor=None, action="test.late").at = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)

    def shown(**days: str) -> bool:
        return "<code>test.late</code>" in admin_client.get("/admin/audit", params=days).text

    assert shown(since="2026-12-02", until="2026-12-02") and not shown(since="2026-12-03")
    assert "days in UTC" in admin_client.get("/admin/audit").text
    post_form(admin_client, "/account/time-zone", {"time_zone": "Asia/Tokyo"}, token_page="/account/time-zone")
    assert shown(since="2026-12-03", until="2026-12-03") and not shown(until="2026-12-02")
    assert "days in Asia/Tokyo" in admin_client.get("/admin/audit").text


def test_queue_dashboard_requeue_and_regrade(admin_client, bank, make_user, make_submission, app):
    failed = make_submission(make_user(), answer_text="An answer about ASGI.", status=SubmissionStatus.failed,
                             attempts=3, error="ValueError: boom")
    page = admin_client.get("/admin/queue").text
    assert "ValueError: boom" in page and "No grader has reported" in page
    app.state.grader.beat()
    assert app.state.grader.name in admin_client.get("/admin/queue").text
    assert _post(admin_client, "/admin/queue/requeue", {"submission_id": str(failed.id)}).status_code == 303
    while app.state.grader.process_one():
        pass
    with session_scope(app.state.db.read_session) as db:
        assert db.get(Submission, failed.id).status == SubmissionStatus.graded
    confirm = admin_client.get(f"/admin/queue/regrade/{failed.revision_id}").text
    assert "1 finished submission of this revision will be queued" in confirm
    assert _post(admin_client, f"/admin/queue/regrade/{failed.revision_id}").status_code == 303
    with session_scope(app.state.db.read_session) as db:
        again = db.get(Submission, failed.id)
        assert again.status == SubmissionStatus.queued and again.score is not None  # old grade kept meanwhile
    assert "queue.regraded" in admin_client.get("/admin/audit").text
    assert admin_client.get("/admin/queue/regrade/999999").status_code == 404
