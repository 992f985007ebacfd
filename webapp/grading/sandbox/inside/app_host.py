"""Serves the candidate's app inside its box: ``python -I -B app_host.py [--nproc N]
--listen-fd L --status-fd S --job-fd J``.

The box holds the candidate's files and nothing else: no hidden tests, no test runner, no
report channel. ``L`` is a listening Unix socket the grader bound (this box never sees its
path); the app is served on it by uvicorn, with its real lifespan, middleware and
WebSockets. ``S`` carries status lines (``{"event": "ready"}`` once serving, or why not)
that only tell the grader when to start the tests: this process shares its interpreter with
the candidate's code, so nothing it says can raise a score. The score comes from the test
runner in another box, from what the app answers over the socket.

The box may start before its answer exists (a warm box, docs/sandbox.md): this script
imports FastAPI and uvicorn, says ``warm`` on the job channel ``J`` and waits for one job, a
memfd passed over ``J`` with the solution's source and the question's limits. It writes
``solution.py``, lowers its limits to the question's (CPU time counted from now), says
``armed``, closes ``J`` and only then imports the solution. The box serves one answer; then
the grader destroys it.

Standalone on purpose: the standard library, plus uvicorn to serve.
"""

# The candidate's solution.py exists only in the box, beside this script. Not a type: ignore on the import
# line: that line is in the traceback the candidate reads when their module fails to import.
# mypy: disable-error-code="import-not-found"

import json
import os
import sys
import traceback

TYPE_CHECKING = False  # mypy reads it as typing's; this way the box never imports typing for it
if TYPE_CHECKING:
    import socket
    from typing import Any

MESSAGE_LIMIT = 500
# What answers import, loaded while the box waits for its answer (a failure here is the answer's to report).
PRELOAD = ("asyncio", "typing", "re", "uuid", "datetime", "contextlib", "collections.abc", "secrets", "pydantic",
           "fastapi", "fastapi.responses", "fastapi.security", "fastapi.exceptions", "fastapi.middleware.cors",
           "starlette.exceptions", "uvicorn")


def _int_option(name: str) -> int:
    """An option the grader always passes (an fd or a count): without it the host stops at once."""
    return int(sys.argv[sys.argv.index(name) + 1])


def _short(text: object) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _status(fd: int, event: str, **fields: object) -> None:
    try:
        os.write(fd, (json.dumps({"event": event, **fields}) + "\n").encode())
    except OSError:
        pass  # the grader stopped listening, or the candidate closed it: only its own loss


def _import_error(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith("solution.py")]
    where = f" (solution.py line {frames[-1].lineno})" if frames else ""
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.endswith("solution.py"):
        where = f" (solution.py line {exc.lineno})"
    return _short(f"{type(exc).__name__}: {exc}{where}")


def _warm_up() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    try:  # uvicorn imports its protocol classes when a config is loaded: once now, for a placeholder app
        import uvicorn

        async def placeholder(scope: object, receive: object, send: object) -> None:
            pass

        uvicorn.Config(placeholder, log_level="warning", lifespan="auto").load()
    except Exception:
        pass


def _say(channel: "socket.socket", what: bytes) -> None:
    try:
        channel.sendall(what)
    except OSError:
        pass  # a cold start: the grader sent the job without waiting to hear this


def _take_job(channel: "socket.socket") -> "dict[str, Any]":
    """The one job of this box; none (the grader let the box go unused): exit."""
    import socket

    try:
        _, fds, _, _ = socket.recv_fds(channel, 64, 1)
    except OSError:
        fds = []
    if not fds:
        os._exit(0)
    with os.fdopen(fds[0], "rb") as handle:
        job: dict[str, Any] = json.loads(handle.read())
    return job


def _arm(limits: "dict[str, float]") -> None:
    """Lower every limit to the question's; the CPU limit counts from now, not from the box's start."""
    import math
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(usage.ru_utime + usage.ru_stime + float(limits["cpu_seconds"]))
    wanted = [(resource.RLIMIT_CPU, cpu, cpu + 1), (resource.RLIMIT_CORE, 0, 0)]
    wanted += [(kind, int(limits[name]), int(limits[name])) for kind, name in (
        (resource.RLIMIT_AS, "memory_bytes"), (resource.RLIMIT_FSIZE, "file_size_bytes"),
        (resource.RLIMIT_NOFILE, "open_files"))]
    if "--nproc" in sys.argv:  # in a box of its own user namespace, where the count is the box's
        wanted.append((resource.RLIMIT_NPROC, int(limits["processes"]), int(limits["processes"])))
    for kind, soft, hard in wanted:
        cap = resource.getrlimit(kind)[1]
        hard = hard if cap == resource.RLIM_INFINITY else min(hard, cap)
        resource.setrlimit(kind, (min(soft, hard), hard))


def main() -> None:
    if "--nproc" in sys.argv:
        import resource

        count = _int_option("--nproc")
        resource.setrlimit(resource.RLIMIT_NPROC, (count, count))
    listen_fd, status_fd = _int_option("--listen-fd"), _int_option("--status-fd")
    import socket

    channel = socket.socket(fileno=_int_option("--job-fd"))
    _warm_up()
    _say(channel, b"warm\n")
    job = _take_job(channel)
    # Nothing of the answer has run yet: on any failure up to "armed" the box exits, and the
    # grader, having heard no "armed", treats the run as its own failure, never as the answer's.
    descriptor = os.open("solution.py", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(str(job["solution"]).encode())
    _arm(job["limits"])
    _say(channel, b"armed\n")
    channel.close()  # the answer's code never holds the job channel
    del job
    sys.path.insert(0, os.getcwd())
    try:
        import solution
    except BaseException as exc:  # SyntaxError, SystemExit, anything raised at import time
        traceback.print_exc()  # first: once the status is out, the grader stops the box
        sys.stderr.flush()
        _status(status_fd, "import_error", message=_import_error(exc))
        os._exit(1)
    app = getattr(solution, "app", None)
    if app is None or not callable(app):
        _status(status_fd, "no_app", message="solution.py must define `app` (for example app = FastAPI())")
        os._exit(1)

    import asyncio

    import uvicorn

    # Quiet server logs: what the candidate prints, and tracebacks of errors in their routes, remain.
    config = uvicorn.Config(app, fd=listen_fd, log_level="warning", access_log=False, lifespan="auto",
                            timeout_graceful_shutdown=0)
    server = uvicorn.Server(config)

    async def serve() -> None:
        serving = asyncio.ensure_future(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.002)
        if server.started:
            _status(status_fd, "ready")
        await serving

    try:
        asyncio.run(serve())
    except BaseException as exc:
        _status(status_fd, "stopped", message=_short(f"{type(exc).__name__}: {exc}"))
    else:
        _status(status_fd, "stopped", message="the server stopped (the lifespan failed, or the app asked it to)")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


if __name__ == "__main__":
    main()
