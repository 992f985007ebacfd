"""Serves the candidate's app inside its box: ``python -I -B app_host.py [--nproc N]
--listen-fd L --status-fd S``, with ``solution.py`` beside it.

The box holds the candidate's files and nothing else: no hidden tests, no test runner, no
report channel. ``L`` is a listening Unix socket the grader bound (this box never sees its
path); the app is served on it by uvicorn, with its real lifespan, middleware and
WebSockets. ``S`` carries status lines (``{"event": "ready"}`` once serving, or why not)
that only tell the grader when to start the tests: this process shares its interpreter with
the candidate's code, so nothing it says can raise a score. The score comes from the test
runner in another box, from what the app answers over the socket.

Standalone on purpose: the standard library, plus uvicorn to serve.
"""

# The candidate's solution.py exists only in the box, beside this script. Not a type: ignore on the import
# line: that line is in the traceback the candidate reads when their module fails to import.
# mypy: disable-error-code="import-not-found"

import json
import os
import sys
import traceback

MESSAGE_LIMIT = 500


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


def main() -> None:
    if "--nproc" in sys.argv:
        import resource

        count = _int_option("--nproc")
        resource.setrlimit(resource.RLIMIT_NPROC, (count, count))
    listen_fd, status_fd = _int_option("--listen-fd"), _int_option("--status-fd")
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
