from __future__ import annotations

import pytest

from tests.helpers import csrf_token
from tests.questions.conftest import bank  # noqa: F401  (re-exported fixture)


@pytest.fixture
def drain(app):  # type: ignore[no-untyped-def]
    """Grade everything queued, in this thread (the test app runs no grader threads)."""

    def run() -> int:
        done = 0
        while app.state.grader.process_one():
            done += 1
        return done

    return run


@pytest.fixture
def answer(candidate_client):  # type: ignore[no-untyped-def]
    def post(slug: str, *, headers: dict[str, str] | None = None, files=None, **fields):  # type: ignore[no-untyped-def]
        data = {"csrf_token": csrf_token(candidate_client, f"/questions/{slug}"), **fields}
        return candidate_client.post(f"/questions/{slug}/submissions", data=data, files=files, headers=headers,
                                     follow_redirects=False)

    return post
