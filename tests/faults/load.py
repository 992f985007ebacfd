"""A bounded scripted load for fault tests: candidates who sign up, then answer text questions over
HTTP in a loop, each request classified (acknowledged, refused cleanly, or failed) as it comes back."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from itertools import count

import httpx2 as httpx

from webapp.questions.bank import default_bank_dir, read_path

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SUBMISSION = re.compile(r"^/submissions/(\d+)$")
TEXT_QUESTIONS = [q for q in read_path(default_bank_dir()).questions if q.kind == "text"]
# What a refusal for a database fault says and carries (webapp/web/errors.py).
FAULT_STATUSES = {503, 507}


@dataclass
class Tally:
    """What every candidate got back, shared by the load's threads."""

    acknowledged: list[tuple[float, int]] = field(default_factory=list)  # (when, submission id)
    refused: list[tuple[float, int, str]] = field(default_factory=list)  # (when, status, path): a clean 503/507
    failures: list[str] = field(default_factory=list)  # anything else: a 500, a bad page, a dropped connection
    retried: list[str] = field(default_factory=list)  # requests resent to another web process
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged_ids(self) -> set[int]:
        with self.lock:
            return {submission_id for _, submission_id in self.acknowledged}

    def acknowledged_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for at, _ in self.acknowledged if at >= moment)

    def refused_since(self, moment: float, *, answers_only: bool = False) -> int:
        with self.lock:
            return sum(1 for at, _, path in self.refused
                       if at >= moment and (path.endswith("/submissions") or not answers_only))


class Balancer:
    """Picks a web process per request, as a proxy would. A process taken out of rotation (about to
    be killed) gets no new requests; a request in flight on it when it died is sent again elsewhere."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = bases
        self.down: set[str] = set()
        self.in_flight = dict.fromkeys(bases, 0)  # requests sent and not yet answered, per process
        self.lock = threading.Lock()
        self._turn = count()

    def pick(self) -> str:
        live = [b for b in self.bases if b not in self.down]
        return live[next(self._turn) % len(live)]

    def send(self, browser: httpx.Client, base: str, method: str, path: str, **kwargs) -> httpx.Response:
        with self.lock:
            self.in_flight[base] += 1
        try:
            return browser.request(method, base + path, **kwargs)
        finally:
            with self.lock:
                self.in_flight[base] -= 1


class Candidate:
    def __init__(self, balancer: Balancer, tally: Tally, number: int, *, origin: str, think: float) -> None:
        self.balancer = balancer
        self.think = think
        self.tally = tally
        self.number = number
        self.origin = origin
        # One browser: its cookie (for 127.0.0.1, whatever the port) goes to every web process.
        self.browser = httpx.Client(timeout=60, follow_redirects=False)

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        base = self.balancer.pick()
        try:
            return self.balancer.send(self.browser, base, method, path, **kwargs)
        except httpx.TransportError as exc:
            if base not in self.balancer.down:
                raise
            with self.tally.lock:
                self.tally.retried.append(f"{method} {path} ({type(exc).__name__} from {base})")
            return self.balancer.send(self.browser, self.balancer.pick(), method, path, **kwargs)

    def sign_up(self) -> None:
        token = TOKEN.search(self.request("GET", "/register").text).group(1)
        response = self.request("POST", "/register", headers={"Origin": self.origin}, data={
            "email": f"candidate{self.number}@example.com", "display_name": f"Candidate {self.number}",
            "password": "a long passphrase", "csrf_token": token})
        assert response.status_code == 303, response.text[:500]

    def answer_once(self, turn: int, stopping: threading.Event) -> None:
        """Open a question and answer it; the outcomes go to the tally. An answer refused for a database
        fault is sent again (the same form, as a candidate who kept a copy) until it is acknowledged."""
        question = TEXT_QUESTIONS[(self.number + turn) % len(TEXT_QUESTIONS)]
        path = f"/questions/{question.slug}"
        try:
            page = self.request("GET", path)
            if not self._expected(page, path, ok=200):
                return
            form = {"answer": f"Answer {turn} by candidate {self.number}. {question.reference_answer}",
                    "csrf_token": TOKEN.search(page.text).group(1)}
            stopping.wait(self.think)  # reading and writing: most of the time, a candidate holds a form
            while True:
                sent = self.request("POST", f"{path}/submissions", headers={"Origin": self.origin}, data=form)
                if self._expected(sent, f"{path}/submissions", ok=303):
                    break
                if sent.status_code not in FAULT_STATUSES or stopping.wait(0.1):
                    return
        except httpx.TransportError as exc:
            with self.tally.lock:
                self.tally.failures.append(f"{path}: {exc!r}")
            return
        match = SUBMISSION.match(sent.headers.get("location", ""))
        with self.tally.lock:
            if match:
                self.tally.acknowledged.append((time.monotonic(), int(match.group(1))))
            else:
                self.tally.failures.append(f"{path}: 303 to {sent.headers.get('location')}")

    def _expected(self, response: httpx.Response, path: str, *, ok: int) -> bool:
        """True for the hoped-for status; a clean refusal (503/507 with Retry-After and a message,
        no traceback) is tallied as refused, anything else as a failure."""
        if response.status_code == ok:
            return True
        body = response.text
        clean = (response.status_code in FAULT_STATUSES and response.headers.get("retry-after", "").isdigit()
                 and "try again" in body and "Traceback" not in body and 'class="error-page"' in body)
        with self.tally.lock:
            if clean:
                self.tally.refused.append((time.monotonic(), response.status_code, path))
            else:
                self.tally.failures.append(f"{path}: {response.status_code} {body[:300]!r}")
        return False

    def close(self) -> None:
        self.browser.close()


class Load:
    """``users`` candidates answering in threads until ``stop()``: each opens a question, takes ``think``
    seconds over it, sends the answer, and after ``pause`` seconds opens the next."""

    def __init__(self, balancer: Balancer, *, users: int, origin: str, think: float = 0.15,
                 pause: float = 0.02) -> None:
        self.tally = Tally()
        self.candidates = [Candidate(balancer, self.tally, n, origin=origin, think=think) for n in range(users)]
        self.pause = pause
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for candidate in self.candidates:
            candidate.sign_up()
        self._threads = [threading.Thread(target=self._run, args=(c,), daemon=True) for c in self.candidates]
        for thread in self._threads:
            thread.start()

    def _run(self, candidate: Candidate) -> None:
        turn = 0
        while not self._stopping.is_set():
            candidate.answer_once(turn, self._stopping)
            turn += 1
            self._stopping.wait(self.pause)

    def stop(self) -> Tally:
        self._stopping.set()
        for thread in self._threads:
            thread.join(90)
        for candidate in self.candidates:
            candidate.close()
        return self.tally

