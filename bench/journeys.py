"""Simulated candidates: one browser-like client per user, walking the candidate pages as htmx would.

Shared by ``bench/users.py`` (users loop for a fixed time) and ``tests/test_concurrent_users.py``
(one bounded journey each). Every request is timed by page kind. A 5xx, a transport error or any
status the page would not give a real browser is recorded with the request and ends the journey
(never retried away), so the load generator cannot hide a failure.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from sqlalchemy.orm import Session

import webapp.models  # noqa: F401  (every table, so foreign keys resolve)
from webapp.core.config import Settings
from webapp.identity.models import User
from webapp.identity.passwords import make_hasher
from webapp.questions.bank import QuestionSpec, default_bank_dir, read_path

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
STATUS_POLL = re.compile(r'hx-get="(/submissions/\d+/status)" hx-trigger="load delay:(\d+)ms"')
SUBMISSION_ID = re.compile(r'/submissions/(\d+)/status')
CHOICE_INPUT = re.compile(r'<input type="(radio|checkbox)" name="choice" value="([^"]+)"')
PASSWORD = "load test passphrase"
TIMEOUT = 60.0  # log-ins queue for argon2id on 2 cores: slow is measured, not an error
POLL_DEADLINE = 120.0  # a user who waited this long for feedback gives up; counted as ungraded

BANK = read_path(default_bank_dir())
TEXT = [q for q in BANK.questions if q.kind == "text"]
CHOICE = [q for q in BANK.questions if q.kind == "choice"]
CODE = [q for q in BANK.questions if q.kind == "code"]
TOPICS = [t.slug for t in BANK.topics]
SEARCHES = ["pydantic", "dependency injection", "async", "oauth2 token", "middleware", "cors", "websocket",
            "background tasks", "validation error", "upload"]


@dataclass
class Tally:
    """What all users saw; figures are kept per page kind."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    submissions: list[int] = field(default_factory=list)
    feedback_ms: list[float] = field(default_factory=list)  # POST sent → graded fragment received
    ungraded: list[int] = field(default_factory=list)  # polling gave up at POLL_DEADLINE

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def problems(self) -> list[str]:
        return (self.server_errors + self.transport_errors + self.unexpected
                + [f"submission {n} not graded after {POLL_DEADLINE:.0f} s of polling" for n in self.ungraded])


class JourneyFailed(Exception):
    """A request failed (already tallied): this journey cannot go on."""


class TimeUp(Exception):
    """The run is over: the user stops at its next pause."""


def create_accounts(db: Session, emails: list[str]) -> None:
    """Candidate accounts with PASSWORD, in one transaction (one hash: the server still verifies each log-in)."""
    defaults = Settings.model_fields
    hasher = make_hasher(memory_kib=defaults["argon2_memory_kib"].default,
                         time_cost=defaults["argon2_time_cost"].default,
                         parallelism=defaults["argon2_parallelism"].default)
    password_hash = hasher.hash(PASSWORD)
    db.add_all(User(email=email, display_name=email.split("@")[0], password_hash=password_hash) for email in emails)
    db.commit()


class SimulatedUser:
    """One person in one browser (own cookie jar), with htmx's request headers where the page uses htmx."""

    def __init__(self, base_url: str, email: str, tally: Tally, *, register: bool, think: tuple[float, float],
                 seed: int, until: float = math.inf) -> None:
        self.base_url, self.email, self.tally = base_url, email, tally
        self.must_register, self.think_range, self.until = register, think, until
        self.rng = random.Random(seed)
        self.client = httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT, follow_redirects=False)
        self.signed_in = False

    async def close(self) -> None:
        await self.client.aclose()

    async def think(self) -> None:
        if time.monotonic() >= self.until:
            raise TimeUp
        await asyncio.sleep(self.rng.uniform(*self.think_range))

    async def call(self, kind: str, method: str, path: str, *, expect: int = 200, htmx: bool = False,
                   **kwargs: Any) -> httpx.Response:
        headers: dict[str, str] = {}
        if htmx:
            headers["HX-Request"] = "true"
        if method == "POST":  # what a browser sends with every form post
            headers["Origin"] = self.base_url
        started = time.perf_counter()
        try:
            response = await self.client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            self.tally.transport_errors.append(f"{method} {path}: {exc!r}")
            raise JourneyFailed from exc
        self.tally.latencies[kind].append((time.perf_counter() - started) * 1000)
        if response.status_code >= 500:
            self.tally.server_errors.append(f"{method} {path}: {response.status_code}")
            raise JourneyFailed
        if response.status_code != expect:
            self.tally.unexpected.append(f"{method} {path}: {response.status_code} (expected {expect}) "
                                         f"{response.text[:200]!r}")
            raise JourneyFailed
        return response

    def _token(self, kind: str, path: str, page: str) -> str:
        match = TOKEN.search(page)
        if match is None:
            self.tally.unexpected.append(f"GET {path} ({kind}): no csrf_token in the page")
            raise JourneyFailed
        return match.group(1)

    async def _htmx_form(self, kind: str, path: str, data: dict[str, str]) -> None:
        """GET the form, hx-post it; htmx follows HX-Redirect with a full page load."""
        page = (await self.call(f"{kind} page", "GET", path)).text
        await self.think()
        response = await self.call(kind, "POST", path, htmx=True,
                                   data={**data, "csrf_token": self._token(kind, path, page)})
        if (target := response.headers.get("HX-Redirect")) is None:
            self.tally.unexpected.append(f"POST {path}: no HX-Redirect {response.text[:200]!r}")
            raise JourneyFailed
        await self.call("home", "GET", target)
        self.signed_in = True

    async def sign_in(self) -> None:
        if self.must_register:
            await self._htmx_form("register", "/register", {"email": self.email, "password": PASSWORD,
                                                            "display_name": self.email.split("@")[0]})
            self.must_register = False
        else:
            await self._htmx_form("login", "/login", {"email": self.email, "password": PASSWORD, "next": "/"})

    async def log_out(self) -> None:
        page = (await self.call("home", "GET", "/")).text
        await self.call("logout", "POST", "/logout", expect=303, data={"csrf_token": self._token("home", "/", page)})
        self.signed_in = False
        await self.call("login page", "GET", "/login")

    def reset(self) -> None:
        """After a failure: a fresh cookie jar, as if the user reopened the browser."""
        self.client.cookies.clear()
        self.signed_in = False

    async def browse(self) -> None:
        """The question list, then a search and a filter as the filter form's htmx sends them."""
        await self.call("questions", "GET", "/questions")
        await self.think()
        await self.call("questions: search", "GET", "/questions", htmx=True,
                        params={"q": self.rng.choice(SEARCHES), "topic": "", "difficulty": "", "kind": "", "tag": ""})
        await self.think()
        await self.call("questions: filters", "GET", "/questions", htmx=True,
                        params={"q": "", "topic": self.rng.choice(TOPICS), "difficulty": "",
                                "kind": self.rng.choice(["", "text", "choice", "code"]), "tag": ""})

    def _fields(self, spec: QuestionSpec, page: str) -> list[tuple[str, tuple[None, str]]]:
        if spec.kind == "text":
            return [("answer", (None, self.rng.choice(spec.calibration).answer))]
        if spec.kind == "code":
            wrong = [w.code for w in spec.wrong_solutions]
            return [("code", (None, self.rng.choice([spec.reference_solution, spec.reference_solution, *wrong])))]
        inputs = CHOICE_INPUT.findall(page)
        if not inputs:
            self.tally.unexpected.append(f"GET /questions/{spec.slug}: no choices in the page")
            raise JourneyFailed
        ids = [value for _, value in inputs]
        picked = self.rng.sample(ids, self.rng.randint(1, 2)) if inputs[0][0] == "checkbox" else [self.rng.choice(ids)]
        return [("choice", (None, choice)) for choice in picked]

    async def answer(self, spec: QuestionSpec) -> int:
        """Open the question, submit (multipart, as the form's hx-post) and poll until graded; the id."""
        path = f"/questions/{spec.slug}"
        page = (await self.call("question", "GET", path)).text
        fields = [("csrf_token", (None, self._token("question", path, page))), *self._fields(spec, page)]
        await self.think()
        sent = time.perf_counter()
        fragment = (await self.call(f"submit {spec.kind}", "POST", f"{path}/submissions", htmx=True,
                                    files=fields)).text
        found = SUBMISSION_ID.search(fragment)
        if found is None:
            self.tally.unexpected.append(f"POST {path}/submissions: no status fragment {fragment[:200]!r}")
            raise JourneyFailed
        submission_id = int(found.group(1))
        self.tally.submissions.append(submission_id)
        deadline = time.monotonic() + POLL_DEADLINE
        while poll := STATUS_POLL.search(fragment):  # hx-trigger="load delay:…": pending, poll again
            if time.monotonic() > deadline:
                self.tally.ungraded.append(submission_id)
                return submission_id
            await asyncio.sleep(int(poll.group(2)) / 1000)
            fragment = (await self.call("status poll", "GET", poll.group(1), htmx=True)).text
        if "Score:" not in fragment:
            self.tally.unexpected.append(f"submission {submission_id}: finished without a score {fragment[:300]!r}")
            raise JourneyFailed
        self.tally.feedback_ms.append((time.perf_counter() - sent) * 1000)
        return submission_id

    async def history(self) -> None:
        page = (await self.call("history", "GET", "/submissions")).text
        if ids := re.findall(r'href="/submissions/(\d+)"', page):
            await self.think()
            await self.call("submission", "GET", f"/submissions/{self.rng.choice(ids)}")

    async def round(self, *, code_share: float, logout_share: float) -> None:
        """One sitting: browse, answer a text and a choice question (sometimes code), look back."""
        await self.browse()
        for spec in (self.rng.choice(TEXT), self.rng.choice(CHOICE)):
            await self.think()
            await self.answer(spec)
        if self.rng.random() < code_share:
            await self.think()
            await self.answer(self.rng.choice(CODE))
        await self.think()
        await self.history()
        await self.think()
        await self.call("progress", "GET", "/progress")
        if self.rng.random() < logout_share:
            await self.think()
            await self.log_out()
