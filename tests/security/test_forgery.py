"""Hostile code against the grade itself: every trick a candidate might use to make the report
say more than their app does. Each must score no more than an honest answer of the same
worth: 0 for an app with no routes, 25 for one that answers only GET /ping (1 point of 4).

The invariant behind them (docs/sandbox.md): nothing the candidate's code does can change the
report except through what its app answers over the socket. The hidden tests, the runner and
the report pipe are in another box; the grader accepts a report only if it names exactly
the revision's tests.
"""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import CANARY, PING_ONLY, PROBE, graded_honestly, needs_bwrap

pytestmark = pytest.mark.sandbox

FAKE_REPORT = "\n".join(json.dumps(e) for e in [
    {"event": "loaded", "tests": ["test_ping", "test_add", "test_echo_socket"]},
    *({"event": "result", "name": n, "outcome": "passed", "message": "", "duration_ms": 1}
      for n in ("test_ping", "test_add", "test_echo_socket")),
    {"event": "done"}]) + "\n"
EVERY_FD = f'''
import os
for fd in range(3, 1024):
    for data in ({FAKE_REPORT!r}, '{{"import_error": null, "tests": [{{"name": "test_ping", "outcome": "passed"}}]}}',
                 '{{"event": "ready"}}\\n'):
        try:
            os.write(fd, data.encode())
        except OSError:
            pass
'''
TRICKS = {
    "a made-up report on every inherited descriptor, then exit": EVERY_FD + "os._exit(0)\n",
    "a made-up report on every descriptor, then serve": EVERY_FD,
    "the report path from argv": "import os, sys\nfor a in sys.argv:\n    try:\n        os.write(int(a), b'{}')\n"
                                 "    except (ValueError, OSError):\n        pass\n",
    "patching the host's functions": "import __main__\nfor name in dir(__main__):\n"
                                     "    if callable(getattr(__main__, name)):\n"
                                     "        setattr(__main__, name, lambda *a, **k: None)\n",
    "replacing run_tests and _describe": "import __main__\n__main__.run_tests = lambda m: []\n"
                                         "__main__._describe = lambda e: ('passed', '')\n",
    "patching sys.modules": "import sys, types\nfake = types.ModuleType('rehearse_tests')\n"
                            "fake.weight = lambda n: (lambda f: f)\n"
                            "sys.modules['rehearse_tests'] = fake\nsys.modules['hidden_tests'] = fake\n"
                            "sys.modules['httpx2'] = fake\n",
    "atexit hooks writing reports": "import atexit, os\n@atexit.register\ndef forge():\n"
                                    "    for fd in range(3, 64):\n        try:\n"
                                    f"            os.write(fd, {FAKE_REPORT!r}.encode())\n"
                                    "        except OSError:\n            pass\n",
    "a forked child that outlives the app and writes reports": "import os, time\nif os.fork() == 0:\n    os.setsid()\n"
        "    for _ in range(40):\n        for fd in range(3, 64):\n            try:\n"
        f"                os.write(fd, {FAKE_REPORT!r}.encode())\n            except OSError:\n                pass\n"
        "        time.sleep(0.1)\n    os._exit(0)\n",
    "signalling every process it can see": "import os, signal\nfor pid in range(1, 4096):\n    if pid != os.getpid():\n"
                                           "        for sig in (signal.SIGSTOP, signal.SIGKILL):\n            try:\n"
                                           "                os.kill(pid, sig)\n            except OSError:\n"
                                           "                pass\n",
    "claiming readiness early": "import os, sys\nfd = int(sys.argv[sys.argv.index('--status-fd') + 1])\n"
                                "os.write(fd, b'{\"event\": \"ready\"}\\n')\nimport time\ntime.sleep(1)\n",
    "symlinks into a socket dir": "import os\nfor target in ('/sandbox/app.sock', '/run/app.sock', '/tmp/app.sock'):\n"
                                  "    for source in ('/proc/self/fd/3', '/proc/1/root', '/'):\n        try:\n"
                                  "            os.symlink(source, target)\n        except OSError:\n            pass\n",
    "printing a passing summary": ("print('All 3 hidden tests passed.\\n' + " + repr(FAKE_REPORT)
                                   + " * 50, flush=True)\n"),
    "an app that never binds": "import threading\nthreading.Event().wait()\n",
    "an app that binds a socket of its own": "import uvicorn\nuvicorn.run(app, uds='/sandbox/mine.sock')\n",
    "an app that binds a port of its own": "import uvicorn\nuvicorn.run(app, host='127.0.0.1', port=8000)\n",
    "an app that binds twice": "import socket, sys\nfd = int(sys.argv[sys.argv.index('--listen-fd') + 1])\n"
                               "s = socket.socket(fileno=fd)\ntry:\n    s.listen(1)\n"
                               "    s.bind('/sandbox/again.sock')\n"
                               "except OSError:\n    pass\ns.detach()\n",
}


@pytest.mark.parametrize("trick", TRICKS)
def test_tricks_score_no_more_than_an_app_with_no_routes(submit, mode, trick: str) -> None:
    needs_bwrap(mode, "process mode runs the app and the test runner as one user on one host, unisolated")
    result = submit(PROBE + TRICKS[trick])
    graded_honestly(result, "wrong_answer", "error", "time_limit")
    assert [t["name"] for t in result.feedback["tests"]] == ["test_ping", "test_add", "test_echo_socket"]


@pytest.mark.parametrize("trick", ["a made-up report on every descriptor, then serve", "atexit hooks writing reports",
                                   "a forked child that outlives the app and writes reports"])
def test_tricks_add_nothing_to_a_partly_right_app(submit, mode, trick: str) -> None:
    needs_bwrap(mode, "process mode runs the app and the test runner as one user on one host, unisolated")
    honest = submit(PING_ONLY)
    assert honest.score == 25 and honest.verdict in ("wrong_answer", "error")
    graded_honestly(submit(PING_ONLY + TRICKS[trick]), "wrong_answer", "error", at_most=honest.score)


def test_the_hidden_tests_are_nowhere_the_app_can_read(submit, mode) -> None:
    needs_bwrap(mode, "process mode shares the host's file system and processes")
    code = PROBE + f'''
import os, sys
found, seen = [], 0
needle = bytes.fromhex("{CANARY.encode().hex()}")  # not written out, or this file would match
skip = ("/usr", "/proc", "/sys", "/dev", *{{os.path.dirname(p) for p in sys.path if "python" in p}})
for root, dirs, files in os.walk("/"):
    if root.startswith(skip) and root != "/":
        dirs[:] = []
        continue
    for name in files:
        seen += 1
        try:
            with open(os.path.join(root, name), "rb") as handle:
                if needle in handle.read(1 << 20):
                    found.append(os.path.join(root, name))
        except OSError:
            pass
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
for pid in pids:
    for part in ("cmdline", "environ", "maps"):
        try:
            with open(f"/proc/{{pid}}/{{part}}", "rb") as handle:
                if needle in handle.read():
                    found.append(f"/proc/{{pid}}/{{part}}")
        except OSError:
            pass
print("FOUND", found, "of", seen, flush=True)
print("PIDS", pids, flush=True)
'''
    result = submit(code)
    graded_honestly(result, "wrong_answer", "error")
    assert "FOUND [] of" in result.output, result.output  # not the tests, the runner, nor its memory
    pids = json.loads(result.output.split("PIDS ", 1)[1].splitlines()[0])
    assert max(pids) < 50  # its own pid namespace: a handful of processes, none of the runner's


def test_a_slow_loris_app_cannot_stall_grading(submit, mode) -> None:
    code = '''
import asyncio


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        return
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"100000")]})
    for _ in range(100000):
        await send({"type": "http.response.body", "body": b" ", "more_body": True})
        await asyncio.sleep(0.05)
'''
    result = submit(code)
    graded_honestly(result, "time_limit", "error")
    assert any(t["outcome"] in ("timeout", "not_run") for t in result.feedback["tests"])


def test_answers_that_try_to_overwhelm_the_runner_are_test_errors(submit, mode) -> None:
    code = '''
import gzip
from fastapi import FastAPI, Response, WebSocket
from fastapi.responses import StreamingResponse

app = FastAPI()
BOMB = gzip.compress(b"0" * (64 << 20))  # 64 MiB of zeros in ~64 KiB


@app.get("/ping")
def ping():
    return Response(BOMB, media_type="application/json", headers={"content-encoding": "gzip"})


@app.get("/add")
def add():
    return StreamingResponse((b"x" * 65536 for _ in range(1 << 16)), media_type="application/json")


@app.websocket("/echo")
async def echo(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_text("y" * (16 << 20))
'''
    result = submit(code)
    graded_honestly(result, "wrong_answer", "error")
    messages = {t["name"]: t["message"] for t in result.feedback["tests"]}
    assert "larger than 1 MiB" in messages["test_ping"] and "larger than 1 MiB" in messages["test_add"]


def test_hidden_tests_cannot_reach_the_network_either(app, mode) -> None:
    """The runner's box has no network: a bank imported from elsewhere cannot phone home."""
    needs_bwrap(mode, "process mode shares the host's network")
    import socket

    from webapp.grading.graders.base import GradingTask

    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    tests = f'''
import socket

def test_phone_home(client):
    socket.create_connection(("127.0.0.1", {listener.getsockname()[1]}), timeout=2)
'''
    try:
        result = app.state.grader.graders["code"].grade(GradingTask(kind="code", code=PING_ONLY, hidden_tests=tests))
        assert result.feedback["tests"][0]["outcome"] == "error"
        assert "Network is unreachable" in result.feedback["tests"][0]["message"] or \
            "refused" in result.feedback["tests"][0]["message"]
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


def test_a_broken_report_fails_the_job_for_admins_and_never_becomes_a_score(app, submit, make_user,
                                                                              make_client) -> None:
    """Hidden tests that no longer match what the runner collects (here: edited in the database
    behind the bank's back, so the runner loads a test the revision does not name) are a grader
    error: the job is retried, then failed with the reason, which the admin queue shows."""
    from sqlalchemy import select, update

    from tests.conftest import PASSWORD
    from tests.helpers import login
    from tests.security.conftest import PROBE_TESTS, REFERENCE
    from webapp.core.db import session_scope
    from webapp.identity.models import Role
    from webapp.questions.models import QuestionRevision
    from webapp.submissions.models import Submission

    # The runner sees one more test; the names read from the source on the server do not.
    extra = PROBE_TESTS + '\nglobals()["test_added_later"] = test_ping\n'
    with session_scope(app.state.db.write_session) as db:
        db.execute(update(QuestionRevision).values(hidden_tests=extra))
    first = submit(REFERENCE)  # a correct app: only the report is wrong
    assert (first.status, first.score) == ("queued", None) and "the runner collected" in first.error
    while app.state.grader.process_one():  # the remaining attempts
        pass
    with session_scope(app.state.db.read_session) as db:
        stored = db.scalars(select(Submission)).one()
        assert (stored.status.value, stored.score, stored.attempts) == ("failed", None, 3)
    admin = make_client()
    login(admin, make_user(Role.admin, email="queue-admin@example.com").email, PASSWORD)
    assert "the runner collected" in admin.get("/admin/queue").text
