"""Data for browser tests, made over plain HTTP (faster than clicking): signed-in clients that
answer questions, ask for reviews and build assessments on the live server, as browsers would."""

from __future__ import annotations

import re

import httpx2 as httpx

from tests.e2e.accounts import PASSWORD
from tests.helpers import login, post_form, wait_for


def signed_in_client(live_server, email: str) -> httpx.Client:
    client = httpx.Client(base_url=live_server.url, timeout=30)
    login(client, email, PASSWORD)
    return client


def _found(pattern: str, text: str, what: str) -> str:
    match = re.search(pattern, text)
    assert match, f"no {what} in the page"
    return match.group(1)


def answer(client: httpx.Client, slug: str, *, text: str = "", choices: tuple[str, ...] = (),
           attempt: int | None = None) -> int:
    """Answer the question ``slug`` (in practice, or in an assessment attempt); returns the answer's id
    (in an attempt: 0, the take page does not name it)."""
    fields: dict[str, object] = {"answer": text, "choice": list(choices)}
    if attempt is not None:
        fields["attempt"] = str(attempt)
    sent = post_form(client, f"/questions/{slug}/submissions", fields, token_page=f"/questions/{slug}")
    assert sent.status_code == 303, sent.text[:500]
    return 0 if attempt is not None else int(_found(r"/submissions/(\d+)$", sent.headers["location"], "answer"))


def first_choice(client: httpx.Client, slug: str) -> str:
    return _found(r'name="choice" value="([^"]+)"', client.get(f"/questions/{slug}").text, "choice")


def wait_graded(client: httpx.Client, submission_id: int) -> None:
    wait_for(lambda: "review this answer" in client.get(f"/submissions/{submission_id}").text, timeout=60,
             interval=0.2, message=f"answer {submission_id} to be graded")


def ask_for_review(client: httpx.Client, submission_id: int) -> None:
    wait_graded(client, submission_id)
    sent = post_form(client, f"/submissions/{submission_id}/review-request", token_page=f"/submissions/{submission_id}")
    assert sent.status_code == 303, sent.text[:500]


def claim_review(client: httpx.Client, submission_id: int) -> None:
    sent = post_form(client, f"/review/{submission_id}/claim", token_page=f"/review/{submission_id}")
    assert sent.status_code == 303, sent.text[:500]


def create_assessment(client: httpx.Client, *, title: str, slugs: list[str], **fields: object) -> int:
    sent = post_form(client, "/assessments/new", {"title": title, "time_limit": "30", "questions": slugs,
                                                  "candidate_feedback": "score", **fields},
                     token_page="/assessments/new")
    assert sent.status_code == 303, sent.text[:500]
    return int(_found(r"/assessments/(\d+)$", sent.headers["location"], "assessment"))


def invite(client: httpx.Client, assessment_id: int, email: str) -> None:
    page = f"/assessments/{assessment_id}"
    sent = post_form(client, f"{page}/invite", {"emails": email}, token_page=page)
    assert sent.status_code == 303, sent.text[:500]


def start_attempt(client: httpx.Client, title: str) -> int:
    """Start the assessment ``title`` the candidate was invited to; returns the attempt's id."""
    home = client.get("/assessments").text
    attempt = int(_found(rf'href="/assessments/take/(\d+)"[^>]*>{re.escape(title)}<', home, f"invitation to {title}"))
    sent = post_form(client, f"/assessments/take/{attempt}/start", token_page=f"/assessments/take/{attempt}")
    assert sent.status_code == 303, sent.text[:500]
    return attempt
