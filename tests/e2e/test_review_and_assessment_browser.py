"""Interviewers review code with inline comments; candidates take an assessment to the end."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.accounts import create_account, signed_in_page
from tests.e2e.editing import paste_code

CODE = '''from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
def read_item(item_id: int):
    return {"item_id": item_id}
'''


def test_interviewer_reviews_code_with_comments_and_override(browser, live_server) -> None:
    candidate = signed_in_page(browser, live_server, create_account(live_server))
    candidate.goto("/questions?kind=code")
    candidate.locator(".question-list a").first.click()
    paste_code(candidate, CODE)
    candidate.get_by_role("button", name="Submit answer").click()
    expect(candidate.locator("#submission-status").get_by_text("Score:")).to_be_visible(timeout=60_000)
    candidate.goto("/submissions")
    candidate.locator("table a").first.click()
    submission_id = candidate.url.rsplit("/", 1)[1]

    interviewer = signed_in_page(browser, live_server, create_account(live_server, "interviewer"))
    interviewer.goto(f"/review/{submission_id}")
    interviewer.get_by_role("button", name="Claim this review").click()
    expect(interviewer.get_by_text("You are reviewing this until")).to_be_visible()
    for line, text in [(3, "Good: one app object."), (7, "Validate item_id is positive.")]:
        interviewer.get_by_role("link", name=f"Add a comment on line {line}").click()  # htmx loads the form in place
        interviewer.get_by_label(f"Comment on line {line}", exact=True).fill(text)
        interviewer.locator(f"#comments-{line}").get_by_role("button", name="Add comment").click()
        expect(interviewer.locator(f"#comments-{line}")).to_contain_text(text)
    interviewer.get_by_label("Final score").fill("85")
    interviewer.get_by_label("Reason for changing the score").fill("Clean code; the failing test is a nitpick.")
    interviewer.get_by_label("Overall comment").fill("Well structured.")
    interviewer.get_by_label("Yes", exact=True).check()
    interviewer.get_by_role("button", name="Submit review").click()
    expect(interviewer.get_by_text("Review submitted")).to_be_visible()

    candidate.goto("/questions")
    expect(candidate.get_by_role("link", name=re.compile("My answers 1 new"))).to_be_visible()
    candidate.goto(f"/submissions/{submission_id}")
    review = candidate.locator(".finished-review")
    expect(review).to_contain_text("Final score: 85/100")
    expect(review.locator("#L-3")).to_contain_text("Good: one app object.")
    expect(review.locator("#L-7")).to_contain_text("Validate item_id is positive.")
    expect(review).to_contain_text("Well structured.")


def test_candidate_takes_a_two_question_assessment(browser, live_server) -> None:
    candidate_email = create_account(live_server)
    interviewer = signed_in_page(browser, live_server, create_account(live_server, "interviewer"))
    interviewer.goto("/assessments/new")
    interviewer.get_by_label("Title").fill("Two-question screen")
    interviewer.get_by_label("Time limit (minutes)").fill("20")
    interviewer.get_by_role("button", name="Add Choosing between FastAPI and Flask for a new API").click()
    interviewer.locator("[data-picker-add]").nth(1).click()
    interviewer.get_by_role("button", name="Create assessment").click()
    interviewer.get_by_label("Invite candidates by email").fill(candidate_email)
    interviewer.get_by_role("button", name="Invite").click()
    expect(interviewer.get_by_text("not started")).to_be_visible()
    assessment_url = interviewer.url

    candidate = signed_in_page(browser, live_server, candidate_email)
    candidate.goto("/assessments")
    candidate.get_by_role("link", name="Two-question screen").click()
    candidate.get_by_role("button", name="Start the assessment").click()
    expect(candidate.locator("time[data-deadline]")).to_have_text(re.compile(r"^(19|20):\d\d$"))
    for position in (1, 2):
        candidate.locator("table a").nth(position - 1).click()
        if candidate.get_by_label("Write your answer").count():
            candidate.get_by_label("Write your answer").fill(
                "FastAPI is ASGI on Starlette and validates with Pydantic; Flask is WSGI with a mature ecosystem.")
        else:
            candidate.locator("input[name=choice]").first.check()
        candidate.get_by_role("button", name="Submit answer").click()
        expect(candidate.get_by_text("Answer saved.")).to_be_visible()
    expect(candidate.locator("table")).not_to_contain_text("not answered")
    candidate.clock.install()  # the page's clock only: the server keeps its own deadline
    candidate.reload()
    candidate.clock.fast_forward("19:15")
    expect(candidate.get_by_role("alert").filter(has_text="Less than a minute left")).to_be_visible()
    candidate.get_by_role("button", name="Submit the assessment").click()
    expect(candidate.get_by_text("Assessment submitted.")).to_be_visible()

    interviewer.goto(assessment_url)
    expect(interviewer.locator("table")).to_contain_text("submitted")
    interviewer.get_by_role("link", name="Report").click()
    expect(interviewer.get_by_text("Time used:")).to_be_visible()
    expect(interviewer.locator("main table").get_by_role("link", name="Review")).to_have_count(2)


def test_feedback_is_withheld_while_it_runs_then_shown_as_chosen(browser, live_server) -> None:
    candidate_email = create_account(live_server)
    interviewer = signed_in_page(browser, live_server, create_account(live_server, "interviewer"))
    interviewer.goto("/assessments/new")
    interviewer.get_by_label("Title").fill("Feedback screen")
    interviewer.get_by_label("Nothing: only that each answer was received").check()
    interviewer.get_by_role("button", name="Add Choosing between FastAPI and Flask for a new API").click()
    interviewer.get_by_role("button", name="Create assessment").click()
    interviewer.get_by_label("The score only").check()  # changed afterwards, on the assessment's page
    interviewer.get_by_role("button", name="Save what candidates see").click()
    expect(interviewer.get_by_text("Saved: once the assessment ends, candidates see the score only.")).to_be_visible()
    interviewer.get_by_label("Invite candidates by email").fill(candidate_email)
    interviewer.get_by_role("button", name="Invite").click()
    expect(interviewer.get_by_text("not started")).to_be_visible()
    assessment_url = interviewer.url

    candidate = signed_in_page(browser, live_server, candidate_email)
    candidate.goto("/assessments")
    candidate.get_by_role("link", name="Feedback screen").click()
    expect(candidate.get_by_text("Once it ends you see the score only.")).to_be_visible()
    candidate.get_by_role("button", name="Start the assessment").click()
    candidate.locator("table a").first.click()
    candidate.get_by_label("Write your answer").fill("I am not sure, sorry.")
    candidate.get_by_role("button", name="Submit answer").click()
    expect(candidate.get_by_text("Answer saved.")).to_be_visible()

    candidate.goto("/submissions")
    candidate.locator("table a").first.click()
    expect(candidate.locator("#submission-status li.done").get_by_text("Graded")).to_be_visible(timeout=30_000)
    expect(candidate.get_by_role("heading", name="Answer received")).to_be_visible()
    expect(candidate.get_by_text("not shown while the assessment runs")).to_be_visible()
    expect(candidate.locator(".score")).to_have_count(0)
    expect(candidate.get_by_text("Model answer")).to_have_count(0)
    candidate.get_by_role("link", name="Back to the assessment").click()
    candidate.get_by_role("button", name="Submit the assessment").click()
    expect(candidate.get_by_text("Assessment submitted.")).to_be_visible()
    candidate.get_by_role("link", name="answered").click()
    expect(candidate.get_by_role("heading", name=re.compile(r"^Score: \d+\/100$"))).to_be_visible()
    expect(candidate.get_by_text("Model answer")).to_have_count(0)

    interviewer.goto(assessment_url)
    interviewer.get_by_role("link", name="Report").click()
    interviewer.get_by_role("link", name="Answer 1", exact=True).click()
    expect(interviewer.get_by_text("Model answer")).to_be_visible()
