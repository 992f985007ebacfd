"""Hostile code against the machine: resource exhaustion, secrets, the network, the file
system and processes, each through the real path (tests/security/conftest.py). Hostile code
against the grade itself is in test_forgery.py.

With bubblewrap every case runs. Without it the app grades in process mode, which is not
isolated: cases it cannot contain are skipped, each saying why.
"""

from __future__ import annotations

import json
import os
import secrets
import socket

import pytest

from tests.sandbox_processes import kill_with_token, wait_until_gone
from tests.security.conftest import PROBE, REFERENCE, graded_honestly, needs_another_user, needs_bwrap
from webapp.core.config import PROJECT_ROOT

pytestmark = pytest.mark.sandbox


# resource exhaustion ---------------------------------------------------------------------------
@pytest.mark.parametrize("code, verdict", [
    ("while True:\n    pass\n", "time_limit"),  # at import: the CPU limit, the app never serves
    ("import time\ntime.sleep(10 ** 6)\n", "time_limit"),
    ("blob = bytearray(10 * 1024 ** 3)\n", "memory_limit"),
    ("import sys\nfor _ in range(16384):\n    sys.stdout.write('x' * 65536)\n", "output_limit"),
    ("with open('big.bin', 'wb') as f:\n    for _ in range(1024):\n        f.write(b'x' * (1 << 20))\n", "error"),
], ids=["infinite-loop", "sleep-forever", "allocate-10-GB", "print-1-GB", "write-1-GB-file"])
def test_resource_exhaustion(submit, code: str, verdict: str) -> None:
    result = submit(PROBE + code)
    graded_honestly(result, verdict)
    assert result.score == 0
    if verdict == "error":
        assert "File too large" in result.feedback["summary"]
    assert all(t["outcome"] == "not_run" for t in result.feedback["tests"])


def test_fork_bomb(submit, mode) -> None:
    needs_another_user(mode)  # and the process limit would count every process of the server's user
    token = f"bomb-{secrets.token_hex(8)}"
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    # Exec'd with a token in argv, so every process of the bomb can be found afterwards.
    code = PROBE + f"import os, sys\nos.execv(sys.executable, [sys.executable, '-c', {bomb!r}, {token!r}])\n"
    try:
        graded_honestly(submit(code), "time_limit")
        wait_until_gone(token, message="the fork bomb's processes to end with the job")
    finally:
        kill_with_token(token)


# secrets ---------------------------------------------------------------------------------------
def test_cannot_read_the_database_secret_key_or_data_dir(submit, app, mode) -> None:
    needs_another_user(mode)
    settings = app.state.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = f"dev-secret-{secrets.token_hex(8)}"
    key_file = settings.data_dir / "secret_key"
    key_file.write_text(secret)
    key_file.chmod(0o600)
    probes = [f"probe('secret_key', lambda: open({str(key_file)!r}).read())",
              f"probe('data_dir', lambda: __import__('os').listdir({str(settings.data_dir)!r}))"]
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        probes.append(f"probe('database', lambda: open({url.removeprefix('sqlite:///')!r}, 'rb').read(100))")
    result = submit(PROBE + "\n".join(probes))
    graded_honestly(result, "wrong_answer")
    assert "LEAKED" not in result.output and result.output.count("BLOCKED") == len(probes)
    text = json.dumps(result.feedback)
    assert secret not in text and "SQLite format" not in text and settings.effective_secret_key not in text


def test_cannot_see_the_servers_environment(submit, app, monkeypatch) -> None:
    canary = f"canary-{secrets.token_hex(8)}"
    monkeypatch.setenv("REHEARSE_SECRET_KEY", canary)
    monkeypatch.setenv("REHEARSE_DATABASE_URL", f"postgresql://user:{canary}@db/x")
    result = submit(PROBE + "import os\nprint('ENV', sorted(os.environ.items()), flush=True)\n"
                            "probe('init_environ', lambda: open('/proc/1/environ').read())\n"
                            "probe('shadow', lambda: open('/etc/shadow').read())\n")
    graded_honestly(result, "wrong_answer")
    text = json.dumps(result.feedback)
    assert "ENV [" in result.output and "REHEARSE_" not in text and canary not in text
    assert app.state.settings.effective_secret_key not in text
    assert "shadow BLOCKED" in result.output and "root:" not in text


# network ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["app-port", "postgresql", "other-address"])
def test_no_network(submit, mode, target: str) -> None:
    needs_bwrap(mode, "it shares the host's network, loopback included")
    listener = None
    if target == "postgresql":
        host, port = "127.0.0.1", 5432  # a real PostgreSQL may listen here; the sandbox must not reach it
    else:
        host = "127.0.0.1" if target == "app-port" else "127.0.0.2"  # 127.0.0.2 stands in for the world
        listener = socket.create_server((host, 0))
        listener.setblocking(False)
        port = listener.getsockname()[1]
    try:
        result = submit(PROBE + f"import socket\nprobe('connect', lambda: socket.create_connection("
                                f"({host!r}, {port}), timeout=2))\n")
        graded_honestly(result, "wrong_answer")
        assert "connect BLOCKED" in result.output and "LEAKED" not in result.output
        if listener is not None:
            with pytest.raises(BlockingIOError):
                listener.accept()  # nobody knocked
    finally:
        if listener is not None:
            listener.close()


# the file system -------------------------------------------------------------------------------
def test_cannot_write_into_the_app_or_its_data(submit, app, mode) -> None:
    needs_another_user(mode)
    name = f"pwned-{secrets.token_hex(6)}"
    targets = [PROJECT_ROOT / name, PROJECT_ROOT / "webapp" / name, app.state.settings.data_dir / name]
    app.state.settings.data_dir.mkdir(parents=True, exist_ok=True)
    result = submit(PROBE + "".join(f"probe('write', lambda: open({str(t)!r}, 'w').write('x'))\n" for t in targets))
    graded_honestly(result, "wrong_answer")
    assert result.output.count("write BLOCKED") == len(targets)
    assert not [t for t in targets if t.exists()]


def test_cannot_write_to_the_hosts_tmp(submit, mode) -> None:
    needs_bwrap(mode, "/tmp is world-writable and the process runs on the host's file system")
    target = f"/tmp/pwned-{secrets.token_hex(6)}"
    result = submit(PROBE + f"probe('write', lambda: open({target!r}, 'w').write('x'))\n")
    assert "write BLOCKED" in result.output and not os.path.exists(target)


def test_symlinks_left_in_the_work_dir_are_not_followed(submit, tmp_path, mode) -> None:
    needs_another_user(mode)
    canary_dir = tmp_path / "canary"
    canary_dir.mkdir()
    secret = f"canary-{secrets.token_hex(8)}"
    (canary_dir / "keep.txt").write_text(secret)
    passwd = os.stat("/etc/passwd")
    code = (PROBE + "import os\n"
            "os.symlink('/etc/passwd', 'passwd-link')\n"
            f"os.symlink({str(canary_dir)!r}, 'canary-link')\n"
            "probe('through_link', lambda: open('canary-link/keep.txt').read())\n")
    result = submit(code)
    graded_honestly(result, "wrong_answer")
    assert (canary_dir / "keep.txt").read_text() == secret  # cleanup did not follow the link
    assert os.stat("/etc/passwd").st_mtime == passwd.st_mtime and os.stat("/etc/passwd").st_size == passwd.st_size
    assert secret not in json.dumps(result.feedback)


# processes -------------------------------------------------------------------------------------
def test_killing_the_parent_does_not_break_grading(submit, mode) -> None:
    needs_another_user(mode)
    # kill(-1) would hit every process of the sandbox's uid; only the pid namespace makes that harmless.
    targets = "(os.getppid(), 1, -1)" if mode == "bwrap" else "(os.getppid(), 1)"
    code = PROBE + f"import os\nfor target in {targets}:\n    probe(f'kill {{target}}', lambda: os.kill(target, 9))\n"
    graded_honestly(submit(code), "wrong_answer", "error")
    reference = submit(REFERENCE)
    assert (reference.score, reference.verdict) == (100, "passed")


def test_escaped_processes_do_not_outlive_the_job(submit, mode) -> None:
    needs_bwrap(mode, "a setsid()ed grandchild leaves the process group, and only a pid namespace catches it")
    token = f"escapee-{secrets.token_hex(8)}"
    code = PROBE + (
        "import os, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(300)', {token!r}])\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "print('escaped', flush=True)\n")
    try:
        result = submit(code)
        graded_honestly(result, "wrong_answer")
        assert "escaped" in result.output
        wait_until_gone(token, message="the escaped process to end with the job")
    finally:
        kill_with_token(token)


def test_ctypes_cannot_lift_the_limits(submit, mode) -> None:
    code = PROBE + '''
import ctypes, resource
libc = ctypes.CDLL(None, use_errno=True)

class RLimit(ctypes.Structure):
    _fields_ = [("soft", ctypes.c_ulong), ("hard", ctypes.c_ulong)]

for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE"):
    unlimited = RLimit(2 ** 64 - 1, 2 ** 64 - 1)
    refused = libc.setrlimit(getattr(resource, name), ctypes.byref(unlimited)) != 0
    print(name, "refused" if refused else "RAISED", flush=True)
print("setuid(0)", "refused" if libc.setuid(0) != 0 else "RAISED", flush=True)
print("no_new_privs", libc.prctl(39, 0, 0, 0, 0), flush=True)  # PR_GET_NO_NEW_PRIVS
print("unshare(CLONE_NEWUSER)", "refused" if libc.unshare(0x10000000) != 0 else "allowed", flush=True)
blob = bytearray(2 * 1024 ** 3)  # still refused if the address-space limit held
'''
    result = submit(code)
    graded_honestly(result, "memory_limit")
    assert result.output.count("refused") >= 6 and "RAISED" not in result.output
    if mode == "bwrap":  # --disable-userns; setuid binaries are inert
        assert "unshare(CLONE_NEWUSER) refused" in result.output and "no_new_privs 1" in result.output
