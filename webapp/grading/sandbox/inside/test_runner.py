"""Runs a question's hidden tests against the candidate's app, from a box of its own:
``python -I -B test_runner.py [--nproc N] --job-fd J --go-fd G --report-fd R --socket app.sock``.

This box holds the hidden tests (read from a memfd, never written to a file), this runner,
and one way to the candidate: the app's Unix socket. The candidate's box holds none of
these and cannot see this one (separate pid, mount, network and IPC namespaces).

The box may start before its job exists (a warm box, docs/sandbox.md): the runner imports
httpx2, says ``warm`` on the job channel ``J`` (a socket only the grader holds the other end
of) and waits for its one job, a memfd passed over ``J``; it says ``armed`` and closes ``J``.

Protocol, one JSON object per line on ``R``:
  {"event": "loaded", "tests": [names]}   or {"event": "load_error", "message": ...}
  then, after the grader writes ``go <seconds left>`` on ``G``:
  {"event": "result", "name", "outcome": "passed"|"failed"|"error"|"timeout"|"not_run"|"skipped",
   "message", "duration_ms"} for every test, in file order, then {"event": "done"}.
  (``skipped``: after a failure, when the grader asked to stop at the first one.)

Tests are top-level ``test_*`` functions; their parameters name fixtures: ``client`` (an
httpx2 client over the socket, base URL http://testserver, with ``client.websocket(path)``),
``new_client`` (makes another, independent client) and ``source`` (solution.py's text, for
static checks). ``from rehearse_tests import weight, wait_for, WebSocketDisconnect,
WebSocketRejected`` gives the helpers. Each test has ``test_seconds`` (SIGALRM), and the run
as a whole the time the grader gave; tests left over are reported ``not_run``.
"""

import json
import os
import signal
import sys
import time
import types

TYPE_CHECKING = False  # mypy reads it as typing's; this way the box never imports typing
if TYPE_CHECKING:
    import socket
    import ssl
    from collections.abc import Callable, Iterator
    from typing import Any

    import httpx2

MESSAGE_LIMIT = 500
RESPONSE_LIMIT = 1 << 20
FIXTURES = ("client", "new_client", "source")


class TestTimeout(BaseException):  # not an Exception: a test's own ``except Exception`` must not swallow it
    pass


class ResponseTooLarge(Exception):
    pass


def _option(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def _int_option(name: str) -> int:
    """An option the grader always passes (an fd or a count): without it the runner stops at once."""
    return int(sys.argv[sys.argv.index(name) + 1])


def _short(text: object) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


class Report:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, event: str, **fields: object) -> None:
        data = (json.dumps({"event": event, **fields}) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data):]


def _helpers() -> types.ModuleType:
    import httpx2  # the first import of it, before the job (the box may be started ahead)
    from httpx2 import websockets

    module = types.ModuleType("rehearse_tests")

    def weight(points: int) -> "Callable[[Callable[..., object]], Callable[..., object]]":
        """``@weight(3)``: this test counts three times (read by the grader from the source)."""
        return lambda function: function

    def wait_for(condition: "Callable[[], object]", timeout: float = 2.0, interval: float = 0.02) -> object:
        """Poll ``condition()`` until it is truthy (returned) or ``timeout`` passes (its last value)."""
        end = time.monotonic() + timeout
        while True:
            value = condition()
            if value or time.monotonic() >= end:
                return value
            time.sleep(interval)

    vars(module).update(weight=weight, wait_for=wait_for, WebSocketDisconnect=websockets.WebSocketDisconnect,
                        WebSocketRejected=websockets.WebSocketUpgradeError, httpx2=httpx2)
    return module


def _clients(socket_path: str | None, timeout: float,
             tls: "ssl.SSLContext") -> "tuple[list[httpx2.Client], Callable[[], httpx2.Client]]":
    import httpx2

    class Capped(httpx2.SyncByteStream):
        def __init__(self, inner: httpx2.SyncByteStream) -> None:
            self.inner = inner

        def __iter__(self) -> "Iterator[bytes]":
            seen = 0
            for chunk in self.inner:
                seen += len(chunk)
                if seen > RESPONSE_LIMIT:
                    raise ResponseTooLarge(f"a response was larger than {RESPONSE_LIMIT >> 20} MiB")
                yield chunk

        def close(self) -> None:
            self.inner.close()

    class CappedResponse(httpx2.Response):  # the decoded body too: a gzip bomb stops at the cap
        def iter_bytes(self, chunk_size: int | None = None) -> "Iterator[bytes]":
            seen = 0
            for chunk in super().iter_bytes(chunk_size):
                seen += len(chunk)
                if seen > RESPONSE_LIMIT:
                    raise ResponseTooLarge(f"a response was larger than {RESPONSE_LIMIT >> 20} MiB")
                yield chunk

    class CappedTransport(httpx2.HTTPTransport):
        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            response = super().handle_request(request)
            assert isinstance(response.stream, httpx2.SyncByteStream)  # always, from the sync transport
            response.stream = Capped(response.stream)
            response.__class__ = CappedResponse
            return response

    made: list[httpx2.Client] = []

    def new_client() -> httpx2.Client:
        client = httpx2.Client(transport=CappedTransport(uds=socket_path, verify=tls), base_url="http://testserver",
                               timeout=timeout)
        made.append(client)
        return client

    return made, new_client


def _describe(exc: BaseException, seconds: float) -> tuple[str, str]:
    import httpx2
    from httpx2 import websockets

    if isinstance(exc, TestTimeout) or isinstance(exc, httpx2.TimeoutException):
        return "timeout", f"the app did not answer within {seconds:g} s"
    if isinstance(exc, AssertionError):
        return "failed", _short(exc) if str(exc) else "an assertion failed"
    known: list[tuple[type[BaseException], str]] = [
        (httpx2.ConnectError, "could not connect to the app: it is not running (see its output)"),
        (httpx2.RemoteProtocolError, f"the app's answer was not valid HTTP ({exc})"),
        (httpx2.NetworkError, "the app closed the connection without answering"),
        (ResponseTooLarge, str(exc)),
        (json.JSONDecodeError, f"a response that should be JSON is not ({exc})"),
        (websockets.WebSocketUpgradeError, "the WebSocket handshake was refused (HTTP "
                                           f"{getattr(getattr(exc, 'response', None), 'status_code', '?')})"),
        (websockets.WebSocketDisconnect, f"the app closed the WebSocket (code {getattr(exc, 'code', '?')})"),
    ]
    for kind, message in known:
        if isinstance(exc, kind):
            return "error", _short(message)
    return "error", _short(f"{type(exc).__name__}: {exc}")


def _alarm(_signum: int, _frame: types.FrameType | None) -> None:
    raise TestTimeout()


def _load(source: str) -> list[tuple[str, types.FunctionType]]:
    module = types.ModuleType("hidden_tests")
    module.__file__ = "<hidden tests>"
    sys.modules["hidden_tests"] = module
    exec(compile(source, "<hidden tests>", "exec", dont_inherit=True), module.__dict__)
    tests = [(name, fn) for name, fn in vars(module).items()
             if name.startswith("test_") and isinstance(fn, types.FunctionType)]
    for name, fn in tests:
        unknown = [p for p in fn.__code__.co_varnames[:fn.__code__.co_argcount] if p not in FIXTURES]
        if unknown:
            raise ValueError(f"{name} asks for unknown fixture(s) {', '.join(unknown)} (known: {', '.join(FIXTURES)})")
    return tests


def _run_one(fn: types.FunctionType, *, new_client: "Callable[[], httpx2.Client]", made: "list[httpx2.Client]",
             source: str, seconds: float) -> tuple[str, str, float]:
    fixtures: dict[str, Callable[[], object]] = {
        "client": new_client, "new_client": lambda: new_client, "source": lambda: source}
    wanted = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    started = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        fn(**{name: fixtures[name]() for name in wanted})
        outcome, message = "passed", ""
    except BaseException as exc:
        outcome, message = _describe(exc, seconds)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    duration = round((time.perf_counter() - started) * 1000, 1)
    signal.setitimer(signal.ITIMER_REAL, 1.0)  # closing must not hang on a stuck app either
    try:
        while made:
            made.pop().close()
    except BaseException:
        made.clear()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return outcome, message, duration


def _say(channel: "socket.socket", what: bytes) -> None:
    try:
        channel.sendall(what)
    except OSError:
        pass  # a cold start: the grader sent the job without waiting to hear this


def _take_job() -> "dict[str, Any]":
    """Say ``warm``, wait for the one job, say ``armed``; no job (the box went unused): exit."""
    import socket

    channel = socket.socket(fileno=_int_option("--job-fd"))
    _say(channel, b"warm\n")
    try:
        _, fds, _, _ = socket.recv_fds(channel, 64, 1)
    except OSError:
        fds = []
    if not fds:
        os._exit(0)
    with os.fdopen(fds[0], "rb") as handle:
        job: dict[str, Any] = json.loads(handle.read())
    _say(channel, b"armed\n")
    channel.close()
    return job


def main() -> None:
    if "--nproc" in sys.argv:
        import resource

        count = _int_option("--nproc")
        resource.setrlimit(resource.RLIMIT_NPROC, (count, count))
    report = Report(_int_option("--report-fd"))
    sys.modules["rehearse_tests"] = _helpers()
    # Made once: loading the CA bundle cost each new client ~20-60 ms (no test uses TLS; a client needs one).
    import ssl

    tls = ssl.create_default_context()
    job = _take_job()
    try:
        tests = _load(job["hidden_tests"])
    except BaseException as exc:
        report.send("load_error", message=_short(f"{type(exc).__name__}: {exc}"))
        os._exit(0)
    report.send("loaded", tests=[name for name, _ in tests])
    with os.fdopen(_int_option("--go-fd"), "rb") as go:
        line = go.readline().split()
    if not line or line[0] != b"go":
        os._exit(0)  # the app never came up: nothing to test
    end = time.monotonic() + float(line[1])
    seconds = float(job.get("test_seconds", 5))
    made, new_client = _clients(_option("--socket"), seconds, tls)
    signal.signal(signal.SIGALRM, _alarm)
    failed = False
    for name, fn in tests:
        left = end - time.monotonic()
        if left < 0.05 or (failed and job.get("fail_fast")):
            skip = failed and job.get("fail_fast")
            report.send("result", name=name, outcome="skipped" if skip else "not_run", duration_ms=0,
                        message="not run: an earlier test failed" if skip else "not run: the time limit was reached")
            continue
        outcome, message, duration = _run_one(fn, new_client=new_client, made=made, source=job["solution"],
                                              seconds=min(seconds, left))
        report.send("result", name=name, outcome=outcome, message=message, duration_ms=duration)
        failed = failed or outcome != "passed"
    report.send("done")
    os._exit(0)  # threads a WebSocket left behind must not keep the box alive


if __name__ == "__main__":
    main()
