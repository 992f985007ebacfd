"""Warm boxes (webapp/grading/sandbox/pool.py): pairs of boxes started before their answer, each
used for exactly one answer and destroyed, so that nothing of one candidate's run reaches the
next; the question's limits still apply to the answer; broken, stale and left-over pairs are
replaced, and none outlives the pool or the grading service.

Real bubblewrap runs only; everything here skips, with the reason, when it is unusable.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.grading.processes import make_site
from tests.helpers import wait_for
from tests.sandbox_processes import alive, job_processes, pid_namespace, pids, read, with_token
from webapp.assembly import grading_service
from webapp.core.config import Settings
from webapp.core.db import Database
from webapp.grading.graders import default_graders
from webapp.grading.graders.base import GradingTask
from webapp.grading.graders.code import CodeGrader
from webapp.grading.graders.code_report import GraderError
from webapp.grading.sandbox import (
    ChallengeRun,
    Limits,
    Sandbox,
    SandboxUnavailable,
    WarmPool,
    run_challenge,
    shared_sandbox,
)
from webapp.grading.sandbox.boxes import BwrapSandbox
from webapp.grading.sandbox.linux import JOB_MARKER, sweep_orphans
from webapp.grading.sandbox.pair import BoxPair, app_job, outer_limits, runner_job
from webapp.grading.worker import GradingService

pytestmark = pytest.mark.sandbox

try:
    BWRAP: Sandbox | None = shared_sandbox("bwrap")
    WHY_NO_BWRAP = ""
except SandboxUnavailable as exc:
    BWRAP, WHY_NO_BWRAP = None, str(exc)
needs_bwrap = pytest.mark.skipif(BWRAP is None, reason=f"bubblewrap is not usable here: {WHY_NO_BWRAP}")

APP = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\ndef root():\n    return {'ok': True}\n"
TESTS = "def test_root(client):\n    assert client.get('/').json() == {'ok': True}\n"


def sandbox() -> Sandbox:
    assert BWRAP is not None
    return BWRAP


@pytest.fixture
def make_pool() -> Iterator[Callable[..., WarmPool]]:
    made: list[WarmPool] = []

    def factory(size: int = 1, **options: float) -> WarmPool:
        pool = WarmPool(sandbox(), size=size, **options)
        pool.start()
        made.append(pool)
        return pool

    before = job_processes()
    yield factory
    for pool in made:
        pool.close()
    wait_for(lambda: not job_processes() - before, timeout=10, message="every box of the pools to be gone")


def ready(pool: WarmPool, count: int = 1) -> list[str]:
    """The jobs of the ready pairs, once ``count`` are ready."""
    return wait_for(lambda: len(pool.ready_jobs()) >= count and pool.ready_jobs(), timeout=60,
                    message=f"{count} warm pair(s)")


def run(pool: WarmPool | None, solution: str = APP, tests: str = TESTS, limits: Limits | None = None) -> ChallengeRun:
    return run_challenge(sandbox(), solution=solution, hidden_tests=tests, limits=limits or Limits(), pool=pool)


def passed(result: ChallengeRun) -> bool:
    return bool(result.event("done")) and all(e.get("outcome") == "passed" for e in result.events
                                              if e.get("event") == "result")


def processes_of(job: str) -> set[str]:
    """Live processes of one pair (its boxes are marked with the pair's job id), by mark or namespace."""
    mark = f"{JOB_MARKER}={job}".encode()
    marked = {pid for pid in pids() if mark in read(pid, "environ").split(b"\0")}
    namespaces = {pid_namespace(pid) for pid in marked} - {"", pid_namespace("self")}
    return {pid for pid in pids() if (pid in marked or pid_namespace(pid) in namespaces) and alive(pid)}


# one answer per pair -----------------------------------------------------------------------------------
@needs_bwrap
def test_a_warm_run_grades_like_a_cold_one(make_pool) -> None:
    pool = make_pool()
    (job,) = ready(pool)
    warm, cold = run(pool), run(None)
    assert warm.warm and not cold.warm and warm.job == job and cold.job != job
    assert passed(warm) and passed(cold) and warm.app == cold.app == "ready" and warm.app_armed and cold.app_armed
    grader = CodeGrader(sandbox())
    grader.pool = pool
    ready(pool)
    graded = grader.grade(GradingTask(kind="code", code=APP, hidden_tests=TESTS))
    assert graded.score == 100 and graded.feedback["verdict"] == "passed"
    assert pool.state()["taken"] == 2


@needs_bwrap
def test_a_pair_serves_one_answer_and_is_destroyed(make_pool) -> None:
    pool = make_pool(size=2)
    jobs = set(ready(pool, 2))
    assert all(processes_of(job) for job in jobs)  # both pairs are there, waiting
    first = run(pool)
    assert first.warm and first.job in jobs
    assert not processes_of(first.job), "a used pair must be gone once its run is over"
    second = run(pool)
    assert second.warm and second.job in jobs and second.job != first.job
    third = run(pool)  # by now a replacement, started after the first two were used
    assert third.job not in jobs | {first.job, second.job}
    assert not processes_of(second.job) and not processes_of(third.job)
    assert passed(first) and passed(second) and passed(third)


@needs_bwrap
def test_a_pair_takes_one_job_only() -> None:
    pair = BoxPair(sandbox(), app_limits=outer_limits(Limits()))
    try:
        jobs = {"app": app_job(APP, Limits()), "runner": runner_job(solution=APP, hidden_tests=TESTS,
                                                                    test_seconds=5, fail_fast=False)}
        assert pair.hand_over(**jobs, armed_within=30)
        with pytest.raises(RuntimeError, match="one job only"):
            pair.hand_over(**jobs, armed_within=30)
    finally:
        pair.discard()
    assert not processes_of(pair.job)


LEFTOVERS = '''
import os, sys, threading, time
import fastapi
from fastapi import FastAPI

TOKEN = "{token}"
if os.fork() == 0:  # a daemon that outlives the app, if anything can
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(3600)", TOKEN])
    os._exit(0)
with open("/sandbox/leftover.txt", "w") as handle:
    handle.write(TOKEN)
os.environ["LEFTOVER"] = TOKEN
fastapi.LEFTOVER = TOKEN
sys.modules["leftover"] = sys
threading.Thread(target=time.sleep, args=(3600,), name="leftover-thread", daemon=True).start()
print("NAMESPACE", os.readlink("/proc/self/ns/pid"), flush=True)
app = FastAPI()


@app.get("/")
def root():
    return {{"ok": True}}
'''
OBSERVER = '''
import os, sys, threading
import fastapi
from fastapi import FastAPI

TOKEN = "{token}"
print("NAMESPACE", os.readlink("/proc/self/ns/pid"), flush=True)
app = FastAPI()


def cmdline(pid):
    try:
        with open(f"/proc/{{pid}}/cmdline", "rb") as handle:
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


@app.get("/")
def root():
    return {{"files": sorted(os.listdir("/sandbox")), "env": os.environ.get("LEFTOVER"),
            "module": getattr(fastapi, "LEFTOVER", None), "leftover_module": "leftover" in sys.modules,
            "threads": sorted(t.name for t in threading.enumerate() if t.name.startswith("leftover")),
            "token_in_processes": any(TOKEN in cmdline(p) for p in os.listdir("/proc") if p.isdigit())}}
'''
CLEAN = {"files": ["app_host.py", "solution.py"], "env": None, "module": None, "leftover_module": False,
         "threads": [], "token_in_processes": False}
OBSERVED = f"def test_clean(client):\n    assert client.get('/').json() == {CLEAN!r}\n"


@needs_bwrap
def test_what_an_answer_leaves_behind_never_reaches_the_next(make_pool) -> None:
    """Files, environment, module state, threads and processes of one answer are gone for the next,
    including the answer that lands in a pair that was already waiting while the first one ran."""
    token = f"leftover-{secrets.token_hex(6)}"
    pool = make_pool(size=2)
    ready(pool, 2)
    hostile = run(pool, LEFTOVERS.format(token=token))
    assert hostile.warm and passed(hostile), (hostile.stderr, hostile.events)
    wait_for(lambda: not with_token(token), timeout=10, message="the first answer's daemon to be gone")
    second = run(pool, OBSERVER.format(token=token), OBSERVED)  # the pair that waited meanwhile
    third = run(pool, OBSERVER.format(token=token), OBSERVED)  # a pair started afterwards
    for later in (second, third):
        assert later.warm and later.job != hostile.job
        assert passed(later), (later.events, later.stderr)
    namespaces = {r.stdout.split("NAMESPACE ", 1)[1].split()[0] for r in (hostile, second, third)}
    assert len(namespaces) == 3, "each answer has a pid namespace of its own"


CANARY = f"CANARY-{secrets.token_hex(8)}"
SEARCHER = f'''
import os, sys
from fastapi import FastAPI

needle = bytes.fromhex("{CANARY.encode().hex()}")
found = []
for root, dirs, files in os.walk("/"):
    if root.startswith(("/usr", "/proc", "/sys", "/dev", *{{os.path.dirname(p) for p in sys.path if "python" in p}})):
        dirs[:] = []
        continue
    for name in files:
        try:
            with open(os.path.join(root, name), "rb") as handle:
                found += [os.path.join(root, name)] if needle in handle.read(1 << 20) else []
        except OSError:
            pass
for pid in (p for p in os.listdir("/proc") if p.isdigit()):
    for part in ("cmdline", "environ"):
        try:
            with open(f"/proc/{{pid}}/{{part}}", "rb") as handle:
                found += [f"/proc/{{pid}}/{{part}}"] if needle in handle.read() else []
        except OSError:
            pass
job_fd = int(sys.argv[sys.argv.index("--job-fd") + 1])
try:
    os.fstat(job_fd)
    channel = "open"
except OSError:
    channel = "closed"
print("FOUND", found, "CHANNEL", channel, "FDS", sorted(int(fd) for fd in os.listdir("/proc/self/fd")), flush=True)
app = FastAPI()
'''


@needs_bwrap
def test_a_warm_app_box_never_holds_the_hidden_tests_nor_its_job_channel(make_pool) -> None:
    pool = make_pool()
    ready(pool)
    tests = f'SECRET = "{CANARY}"\n\n\ndef test_root(client):\n    assert client.get("/").status_code == 200\n'
    result = run(pool, SEARCHER, tests)
    assert result.warm and result.app == "ready", result.stderr
    assert "FOUND [] CHANNEL closed" in result.stdout, result.stdout
    fds = json.loads(result.stdout.split("FDS ", 1)[1].splitlines()[0])
    assert len(fds) == 6, fds  # stdin, stdout, stderr, the listening socket, the status pipe, and listdir's own
    assert CANARY not in result.stdout + result.stderr


# the question's limits, counted from the answer ----------------------------------------------------
LIMITS_READER = '''
import json, resource
from fastapi import FastAPI

names = ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE")
usage = resource.getrusage(resource.RUSAGE_SELF)
print("LIMITS", json.dumps({n: resource.getrlimit(getattr(resource, n)) for n in names}),
      "USED", usage.ru_utime + usage.ru_stime, flush=True)
app = FastAPI()
'''


@needs_bwrap
@pytest.mark.parametrize("warm", [True, False])
def test_the_questions_limits_are_the_answers(make_pool, warm: bool) -> None:
    pool = make_pool() if warm else None
    if pool is not None:
        ready(pool)
    limits = Limits(cpu_seconds=3, memory_mb=300, processes=20, file_size_mb=2, open_files=40)
    result = run(pool, LIMITS_READER, "def test_nothing(client):\n    pass\n", limits)
    assert result.warm is warm and result.app == "ready", result.stderr
    line = result.stdout.split("LIMITS ", 1)[1].splitlines()[0]
    found, used = json.loads(line.split(" USED ")[0]), float(line.split(" USED ")[1])
    cpu_soft, cpu_hard = found.pop("RLIMIT_CPU")
    assert used > 0.1 and cpu_soft - 1 <= used + 3 <= cpu_soft and cpu_hard == cpu_soft + 1  # from the warm-up on
    assert found == {"RLIMIT_AS": [300 << 20] * 2, "RLIMIT_FSIZE": [2 << 20] * 2, "RLIMIT_NOFILE": [40, 40],
                     "RLIMIT_NPROC": [20, 20], "RLIMIT_CORE": [0, 0]}


BURNER = '''
import time
from fastapi import FastAPI

end = time.process_time() + {seconds}
while time.process_time() < end:
    pass
app = FastAPI()


@app.get("/")
def root():
    return {{"ok": True}}
'''


@needs_bwrap
def test_cpu_used_while_warming_does_not_count_against_the_answer(make_pool) -> None:
    pool = make_pool()
    ready(pool)
    # The warm-up used about as much CPU as this answer may: a budget counted from the box's start
    # would kill it.
    result = run(pool, BURNER.format(seconds=0.8), limits=Limits(cpu_seconds=1, wall_seconds=20))
    assert result.warm and passed(result), (result.app, result.app_signal, result.stderr[-300:])
    ready(pool)
    endless = run(pool, BURNER.format(seconds=60), limits=Limits(cpu_seconds=1, wall_seconds=20))
    assert endless.warm and endless.app == "exited" and endless.app_signal in (24, 9), endless  # SIGXCPU, SIGKILL
    assert endless.wall_seconds < 10


@needs_bwrap
def test_memory_is_limited_in_a_warm_box(make_pool) -> None:
    pool = make_pool()
    ready(pool)
    hog = "from fastapi import FastAPI\nhog = bytearray(400 << 20)\napp = FastAPI()\n"
    result = run(pool, hog, limits=Limits(memory_mb=256))
    assert result.warm and result.app == "import_error" and result.memory_limit_hit, result.stderr[-300:]


@needs_bwrap
def test_questions_a_warm_box_cannot_take_start_cold(make_pool) -> None:
    pool = make_pool()
    ready(pool)
    result = run(pool, limits=Limits(file_size_mb=8))  # its work dir is larger than a warm box's
    assert not result.warm and passed(result)
    assert pool.state()["unfit"] == 1 and pool.state()["ready"] == 1


# broken, stale and left-over pairs --------------------------------------------------------------------
@needs_bwrap
def test_a_pair_that_died_while_waiting_is_replaced_by_a_cold_start(make_pool) -> None:
    pool = make_pool(take_wait=0)
    (job,) = ready(pool)
    for pid in processes_of(job):
        try:
            os.kill(int(pid), 9)
        except OSError:
            pass
    result = run(pool)
    assert not result.warm and passed(result) and result.job != job
    wait_for(lambda: pool.state().get("failed", 0) >= 1, timeout=10, message="the dead pair to be counted")
    assert not processes_of(job)
    assert ready(pool) != [job]


@needs_bwrap
def test_a_pair_left_ready_too_long_is_replaced(make_pool) -> None:
    pool = make_pool(max_idle=0.5)
    (first,) = ready(pool)
    wait_for(lambda: pool.ready_jobs() and pool.ready_jobs() != [first], timeout=30, message="a fresh pair")
    assert not processes_of(first) and pool.state()["expired"] >= 1


@needs_bwrap
def test_a_box_that_cannot_start_is_a_grader_error_never_a_score() -> None:
    broken = BwrapSandbox()
    broken.python = "/bin/false"  # the boxes end at once: nothing of the answer runs
    with pytest.raises((GraderError, OSError)):
        CodeGrader(broken).grade(GradingTask(kind="code", code=APP, hidden_tests=TESTS))


@needs_bwrap
def test_closing_the_pool_waits_for_runs_in_hand_and_leaves_no_box() -> None:
    before = job_processes()
    pool = WarmPool(sandbox(), size=2)
    pool.start()
    ready(pool, 2)
    slow = APP + "\n\n@app.get('/slow')\ndef slow():\n    import time\n    time.sleep(1.5)\n    return {'ok': True}\n"
    tests = "def test_slow(client):\n    assert client.get('/slow').json() == {'ok': True}\n"
    outcome: dict[str, ChallengeRun] = {}
    worker = threading.Thread(target=lambda: outcome.update(run=run(pool, slow, tests)))
    worker.start()
    wait_for(lambda: pool.state()["loaned"] == 1, timeout=10, message="the run to take a pair")
    started = time.monotonic()
    pool.close(timeout=30)
    worker.join(30)
    assert outcome["run"].warm and passed(outcome["run"]), outcome["run"].events
    assert time.monotonic() - started < 30
    assert not job_processes() - before, "no box may outlive its pool"
    assert run(pool).warm is False  # a closed pool hands out nothing


# the service's pool ----------------------------------------------------------------------------------
def test_the_setting(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("REHEARSE_SANDBOX_WARM", raising=False)
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        default = grading_service(Settings(grader_concurrency=3), database, graders={})
        assert default.warm_sandboxes == 3  # one pair per grader thread
        monkeypatch.setenv("REHEARSE_SANDBOX_WARM", "0")
        assert grading_service(Settings(), database, concurrency=3, graders={}).warm_sandboxes == 0
    finally:
        database.dispose()
    monkeypatch.setenv("REHEARSE_SANDBOX_WARM", "65")
    with pytest.raises(ValueError, match="sandbox_warm"):
        Settings()


def test_process_mode_never_starts_boxes_ahead() -> None:
    grader = CodeGrader(shared_sandbox("process"))
    grader.start_warm(2)
    assert grader.pool is None
    with pytest.raises(ValueError, match="bwrap"):
        WarmPool(shared_sandbox("process"), size=1)


@needs_bwrap
def test_the_grading_service_starts_its_pool_and_leaves_no_box_when_it_stops(app) -> None:
    before = job_processes()
    graders = default_graders(sandbox="bwrap")
    service = GradingService(app.state.db, graders, concurrency=1, warm_sandboxes=2, poll_seconds=0.1)
    code = graders["code"]
    assert isinstance(code, CodeGrader)
    service.start()
    try:
        assert code.pool is not None
        ready(code.pool, 2)
        assert len(job_processes() - before) >= 4  # two boxes a pair
    finally:
        service.stop()
    assert code.pool is None
    assert not job_processes() - before, "the service's boxes outlived it"
    off = GradingService(app.state.db, default_graders(sandbox="bwrap"), concurrency=1, warm_sandboxes=0)
    off.start()
    try:
        assert off.graders["code"].pool is None  # type: ignore[attr-defined]
    finally:
        off.stop()



@needs_bwrap
@pytest.mark.processes
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_a_worker_leaves_no_box_behind_however_it_ends(tmp_path, how: signal.Signals) -> None:
    """``rehearse worker`` keeps its pairs ready; stopped, it kills them; killed, they die with it
    (--die-with-parent). Killed in the instant bubblewrap starts a box, that box's bubblewrap can
    miss its parent's death and wait for ever: the next grader process to start sweeps it away."""
    site = make_site(tmp_path, None, sandbox="bwrap", sandbox_warm="2", grader_poll_seconds="0.2")
    worker = site.start("worker", "--concurrency", "1", name="worker")
    try:
        boxes = wait_for(lambda: len(job_processes(grader=worker.pid)) >= 4 and job_processes(grader=worker.pid),
                         timeout=60, message="the worker's two warm pairs")
        worker.send_signal(how)
        worker.wait(timeout=40)
        if how == signal.SIGKILL:
            try:
                wait_for(lambda: not job_processes(grader=worker.pid), timeout=5, message="the boxes to die")
            except AssertionError:
                site.start("worker", "--concurrency", "1", name="next-worker")
        wait_for(lambda: not job_processes(grader=worker.pid), timeout=30,
                 message=f"the worker's boxes to be gone: {sorted(boxes)}")
    finally:
        site.stop_all()
    if how == signal.SIGTERM:
        assert "warm sandbox pool: 2 pair(s)" in (site.data_dir / "worker.log").read_text()


def test_the_boxes_of_a_dead_grader_are_swept_and_a_live_ones_are_not() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    orphan = subprocess.Popen(sleeper, env={JOB_MARKER: f"{gone.pid}.0123456789abcdef"})
    kept = subprocess.Popen(sleeper, env={JOB_MARKER: f"{os.getppid()}.0123456789abcdef"})
    try:
        assert sweep_orphans() >= 1
        assert orphan.wait(timeout=10) == -signal.SIGKILL
        assert kept.poll() is None
    finally:
        for process in (orphan, kept):
            process.kill()
            process.wait()
