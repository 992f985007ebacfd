"""A candidate practises three questions, watches the charts change, and gets one back when due."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.e2e.accounts import create_account, signed_in_page
from tests.e2e.editing import paste_code
from webapp.identity.models import User
from webapp.practice.models import PracticeCard
from webapp.submissions.models import Submission


def _age_history(live_server, email: str, days: int) -> None:
    """Let time pass for this candidate: every date of their history moves `days` into the past."""
    url = live_server.env.get("REHEARSE_DATABASE_URL") or f"sqlite:///{live_server.data_dir / 'rehearse.db'}"
    engine = create_engine(url)
    with Session(engine) as db:
        user_id = db.scalar(select(User.id).where(User.email == email))
        shift = timedelta(days=days)
        for card in db.scalars(select(PracticeCard).where(PracticeCard.user_id == user_id)):
            card.due, card.last_review = card.due - shift, card.last_review - shift
        for submission in db.scalars(select(Submission).where(Submission.user_id == user_id)):
            submission.queued_at -= shift
            submission.started_at -= shift
            submission.finished_at -= shift
        db.commit()
    engine.dispose()


def test_practice_loop(browser, live_server) -> None:
    email = create_account(live_server)
    page = signed_in_page(browser, live_server, email)

    page.goto("/progress")
    expect(page.locator("#mastery-desc")).to_have_text("No topic tried yet.")
    for _ in range(3):
        page.goto("/practice")
        page.get_by_role("button", name="Practise it").click()
        if page.get_by_label("Write your answer").count():
            page.get_by_label("Write your answer").fill("I do not really know this one yet, sorry about that.")
        elif page.locator("input[name=choice]").count():
            page.locator("input[name=choice]").first.check()
        else:
            paste_code(page, "app = None\n")
        page.get_by_role("button", name="Submit answer").click()
        expect(page.locator("#submission-status").get_by_text("Score:")).to_be_visible(timeout=60_000)

    page.goto("/progress")
    expect(page.locator("#mastery-desc")).not_to_have_text("No topic tried yet.")
    expect(page.locator("#activity-desc")).to_contain_text("3 answers")
    page.goto("/practice")
    expect(page.get_by_text("Due for review")).to_have_count(0)

    _age_history(live_server, email, days=3)
    page.goto("/practice")
    expect(page.locator(".next-practice header")).to_have_text("Due for review")
    expect(page.get_by_text("due today")).to_be_visible()
