"""The sandbox's boxes: modes, failing closed, and each limit, in both implementations,
one program per box (run_program). The two-box run of a challenge is tested in
test_code_grader.py and tests/security/.

Real runs only (no mocks). bwrap cases skip, with the reason, when bubblewrap is unusable.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import wait_for
from tests.sandbox_processes import job_processes, with_token
from webapp.grading.sandbox import (
    Limits,
    Sandbox,
    SandboxUnavailable,
    make_sandbox,
    run_program,
    sandbox_status,
    shared_sandbox,
)
from webapp.grading.sandbox.linux import python_roots
from webapp.grading.sandbox.watch import TRUNCATED

pytestmark = pytest.mark.sandbox

try:
    BWRAP: Sandbox | None = shared_sandbox("bwrap")
    WHY_NO_BWRAP = ""
except SandboxUnavailable as exc:
    BWRAP, WHY_NO_BWRAP = None, str(exc)
MODES = ["process", pytest.param("bwrap", marks=pytest.mark.skipif(
    BWRAP is None, reason=f"bubblewrap is not usable here: {WHY_NO_BWRAP}"))]
FAST = Limits(wall_seconds=5, cpu_seconds=2)


def run(mode: str, code: str, limits: Limits = FAST):
    return run_program(shared_sandbox(mode), source=textwrap.dedent(code), limits=limits)


# modes -------------------------------------------------------------------------------------
def test_limits_from_question_dict() -> None:
    assert Limits.from_dict(None) == Limits()
    limits = Limits.from_dict({"cpu_seconds": 2.5, "memory_mb": 256, "wall_seconds": None, "unknown": 1})
    assert (limits.cpu_seconds, limits.memory_mb, limits.wall_seconds, limits.processes) == (2.5, 256, 10, 64)
    assert (limits.file_size_mb, limits.open_files, limits.output_bytes) == (1, 64, 64 * 1024)


def test_bwrap_mode_fails_closed_without_bubblewrap() -> None:
    with pytest.raises(SandboxUnavailable, match="not installed"):
        make_sandbox("bwrap", bwrap="/nonexistent/bwrap")


def test_bwrap_mode_fails_closed_when_namespaces_cannot_be_created() -> None:
    # /bin/false stands in for a bubblewrap that is installed but cannot build a sandbox here.
    with pytest.raises(SandboxUnavailable, match="probe failed"):
        make_sandbox("bwrap", bwrap="/bin/false")


def test_auto_falls_back_to_process_with_a_loud_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rehearse.sandbox"):
        sandbox = make_sandbox("auto", bwrap="/nonexistent/bwrap")
    assert sandbox.mode == "process" and sandbox.warning and "WITHOUT isolation" in sandbox.warning
    assert any(r.levelno == logging.WARNING and "NOT ISOLATED" in r.getMessage() for r in caplog.records)


def test_process_mode_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rehearse.sandbox"):
        make_sandbox("process")
    assert any("NOT ISOLATED" in r.getMessage() for r in caplog.records)
    assert sandbox_status("process")[0] == "process" and sandbox_status("process")[1]


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown sandbox mode"):
        make_sandbox("docker")


@pytest.mark.skipif(BWRAP is None, reason=f"bubblewrap is not usable here: {WHY_NO_BWRAP}")
def test_auto_prefers_bwrap_and_has_no_warning() -> None:
    assert sandbox_status("auto") == ("bwrap", None)
    assert sandbox_status("bwrap") == ("bwrap", None)


# limits --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_wall_clock_limit_kills_a_sleeper(mode: str) -> None:
    result = run(mode, "import time; time.sleep(600)", Limits(wall_seconds=1, cpu_seconds=5))
    assert result.timed_out and result.exit_code is None
    assert result.wall_seconds < 4


@pytest.mark.parametrize("mode", MODES)
def test_cpu_limit_stops_a_busy_loop_before_the_wall_clock(mode: str) -> None:
    result = run(mode, "while True: pass", Limits(wall_seconds=20, cpu_seconds=1))
    assert result.signal == signal.SIGXCPU and not result.timed_out
    assert result.wall_seconds < 10


@pytest.mark.parametrize("mode", MODES)
def test_address_space_limit_raises_memory_error(mode: str) -> None:
    result = run(mode, "data = bytearray(1 << 30)", Limits(memory_mb=256))
    assert "MemoryError" in result.stderr and result.memory_limit_hit and result.exit_code == 1


@pytest.mark.parametrize("mode", MODES)
def test_512_mb_is_enough_for_uvicorn_fastapi_and_the_test_client(mode: str) -> None:
    code = "import fastapi, uvicorn, httpx2, httpx2.websockets, pydantic\nprint('imported')\n"
    result = run(mode, code, Limits(memory_mb=512))
    assert result.stdout.strip() == "imported", result.stderr


@pytest.mark.parametrize("mode", MODES)
def test_file_size_limit(mode: str) -> None:
    result = run(mode, "open('big.bin', 'wb').write(b'x' * (2 << 20))", Limits(file_size_mb=1))
    assert "File too large" in result.stderr


@pytest.mark.parametrize("mode", MODES)
def test_open_files_limit(mode: str) -> None:
    result = run(mode, "handles = [open('main.py') for _ in range(100)]", Limits(open_files=32))
    assert "Too many open files" in result.stderr


@pytest.mark.parametrize("mode", MODES)
def test_output_is_capped_and_the_run_stopped(mode: str) -> None:
    result = run(mode, "import sys\nwhile True:\n    sys.stdout.write('x' * 4096)\n", Limits(output_bytes=10_000))
    assert result.output_limit_exceeded and result.exit_code is None
    assert result.stdout.endswith(TRUNCATED) and len(result.stdout) == 10_000 + len(TRUNCATED)
    assert result.wall_seconds < 3


@pytest.mark.parametrize("mode", MODES)
def test_process_limit(mode: str) -> None:
    if mode == "process" and os.geteuid() != 0:
        pytest.skip("process mode without root counts all of this user's processes; nothing exact to assert")
    code = """
        import os, time
        children = 0
        for _ in range(100):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
        print("children", children)
    """
    result = run(mode, code, Limits(processes=10))
    assert result.exit_code == 0, result.stderr
    children = int(result.stdout.split()[-1])
    assert children < 10
    # bwrap counts this sandbox alone; process mode shares uid 65534's count with everything else.
    assert children > 0 or mode == "process"


@pytest.mark.parametrize("mode", MODES)
def test_environment_is_cleared_and_identity_unprivileged(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHEARSE_SECRET_KEY", "do-not-leak-0451")
    result = run(mode, "import json, os\nprint(json.dumps([dict(os.environ), os.getuid()]))")
    environ, uid = json.loads(result.stdout)
    assert set(environ) <= {"PATH", "LANG", "HOME", "TMPDIR", "PWD", "LC_CTYPE", "SANDBOX_JOB"}
    assert "do-not-leak-0451" not in result.stdout
    if os.geteuid() == 0:
        assert uid == 65534


# isolation (bwrap only; process mode is not isolated by design) ------------------------------
@pytest.mark.skipif(BWRAP is None, reason=f"bubblewrap is not usable here: {WHY_NO_BWRAP}")
def test_bwrap_filesystem_view_is_minimal_and_read_only() -> None:
    code = """
        import json, os
        def attempt(fn):
            try:
                return repr(fn())
            except OSError as exc:
                return type(exc).__name__ + ":" + str(exc.errno)
        print(json.dumps({
            "root": sorted(os.listdir("/")),
            "write_usr": attempt(lambda: open("/usr/pwned", "w")),
            "write_root": attempt(lambda: open("/pwned", "w")),
            "write_tmp": attempt(lambda: open("/tmp/pwned", "w")),
            "write_work": attempt(lambda: open("scratch.txt", "w").write("ok")),
            "fill": attempt(lambda: [open(f"f{n}", "wb").write(b"x" * (1 << 20)) for n in range(64)]),
            "cwd": os.getcwd(),
        }))
    """
    seen = json.loads(run("bwrap", code).stdout)
    # Besides the system dirs, only the path down to the Python environment exists (read-only),
    # wherever the checkout lives (a clone under /tmp shows /tmp, holding just the venv).
    python_tops = {Path(root).parts[1] for root in python_roots()}
    assert set(seen["root"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sandbox", "sbin",
                                 "usr"} | python_tops
    assert "var" not in seen["root"] and not seen["write_tmp"].startswith("2")
    assert seen["write_usr"].startswith("OSError:30") and seen["write_root"].startswith("OSError:30")
    assert seen["write_work"] == "2" and seen["cwd"] == "/sandbox"
    assert seen["fill"] == "OSError:28"  # the work dir is a size-capped tmpfs: ENOSPC, not the host's disk


@pytest.mark.skipif(BWRAP is None, reason=f"bubblewrap is not usable here: {WHY_NO_BWRAP}")
def test_one_sandbox_fork_bomb_does_not_starve_another() -> None:
    token = f"bomb-{os.getpid()}-{time.monotonic_ns()}"
    bomb = ("import os, time\nfor _ in range(200):\n    try:\n        if os.fork() == 0:\n"
            "            time.sleep(30)\n            os._exit(0)\n    except OSError:\n        pass\ntime.sleep(30)\n")
    code = f"import os, sys\nos.execv(sys.executable, [sys.executable, '-c', {bomb!r}, {token!r}])\n"
    with ThreadPoolExecutor(1) as pool:
        hog = pool.submit(run, "bwrap", code, Limits(wall_seconds=5, processes=32))

        def holds_its_allowance() -> bool:
            if len(with_token(token)) >= 25:
                return True
            assert not hog.done(), "the fork bomb never got going"
            return False

        wait_for(holds_its_allowance, timeout=4, interval=0, message="the fork bomb to hold its whole allowance")
        assert len(with_token(token)) < 32
        assert run("bwrap", "print('ok')", Limits(processes=32)).stdout.strip() == "ok"
        assert hog.result().timed_out
    assert not with_token(token)


@pytest.mark.skipif(BWRAP is None, reason=f"bubblewrap is not usable here: {WHY_NO_BWRAP}")
def test_a_jobs_processes_are_found_by_its_marks_not_by_the_process_tree() -> None:
    """What the hostile-code suite relies on to find survivors: a process the candidate exec'd
    with an empty environment is still the job's (its pid namespace is marked), while a plain
    child of the test process (a browser helper, say) never is, nor is a job of another
    grader process on the same machine (a live server, another test run)."""
    token = f"unmarked-{os.getpid()}-{time.monotonic_ns()}"
    code = ("import os, sys, time\n"
            "if os.fork() == 0:\n"
            f"    os.execve(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)', {token!r}], {{}})\n"
            "time.sleep(60)\n")
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    bystander = subprocess.Popen(sleeper)
    elsewhere = subprocess.Popen(sleeper, env={"SANDBOX_JOB": f"{os.getppid()}.0123456789abcdef"})
    try:
        with ThreadPoolExecutor(1) as pool:
            job = pool.submit(run, "bwrap", code, Limits(wall_seconds=4, cpu_seconds=2))

            def started() -> bool:
                if with_token(token):
                    return True
                assert not job.done(), "the candidate's process never started"
                return False

            wait_for(started, timeout=4, interval=0, message="the candidate's process to start")
            (unmarked,) = with_token(token)
            assert b"SANDBOX_JOB=" not in Path(f"/proc/{unmarked}/environ").read_bytes()
            found = job_processes()
            assert unmarked in found and str(bystander.pid) not in found and str(elsewhere.pid) not in found
            assert str(elsewhere.pid) in job_processes(grader=os.getppid())
            assert job.result().timed_out
        assert not with_token(token) and not job_processes() & {unmarked}
    finally:
        for process in (bystander, elsewhere):
            process.kill()
            process.wait()
