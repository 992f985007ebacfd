"""Text at the edge: a NUL character or bytes that are not UTF-8, anywhere a request carries
text (the path, the query string, cookies, form fields, urlencoded or multipart; a NUL in any
header), is a 400 before any route runs, so no such value reaches a query (PostgreSQL cannot
even store a NUL).

``InputGuardMiddleware`` is pure ASGI. The path, query string and cookies are checked before
the app is called; a bad one gets the site's 400 page. Form bodies are checked as they stream
through ``receive`` (percent-decoding or a streaming multipart parser, nothing buffered), and
a bad one raises ``BadText`` (an HTTPException) from the read, which the app renders as its
400 page like any other. Uploaded files' contents are not text by default: the services that
read them as text check them (``submissions/uploads.py``, ``questions/curation.py``).
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webapp.web.errors import error_page

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks


class BadText(HTTPException):
    def __init__(self, where: str) -> None:
        super().__init__(400, f"{where} contains a NUL character or bytes that are not UTF-8 text. "
                              "Remove them (or re-type the text) and try again.")


def clean(raw: bytes) -> bool:
    """Valid UTF-8 without NUL."""
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _form_decoded(raw: bytes) -> bytes:
    return unquote_to_bytes(raw.replace(b"+", b" "))


def problem_before_body(scope: Scope) -> str | None:
    """What is wrong with the path, query string or cookies, or None."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    if not clean(unquote_to_bytes(raw_path.split(b"?", 1)[0])) or "\x00" in scope["path"]:
        return "The address"
    if not clean(_form_decoded(scope.get("query_string", b""))):
        return "The query string"
    for name, value in scope["headers"]:
        if name == b"cookie" and not (clean(value) and all(
                "\x00" not in k + v for k, v in cookie_parser(value.decode("latin-1")).items())):
            return "A cookie"
        if b"\x00" in value:  # servers refuse these already; the user agent is stored with a session
            return "A header"
    return None


class _UrlencodedCheck:
    """Percent-decodes a urlencoded body chunk by chunk into a strict UTF-8 decoder. The ASCII
    separators (``&``, ``=``) end any multi-byte sequence, so one decoder covers every field."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.carry = b""

    def feed(self, chunk: bytes, *, final: bool) -> bool:
        data = self.carry + chunk
        keep = 0 if final else next((k for k in (1, 2) if data[-k:-k + 1 or None] == b"%"), 0)
        data, self.carry = (data[:-keep], data[-keep:]) if keep else (data, b"")
        decoded = _form_decoded(data)
        try:
            self.decoder.decode(decoded, final=final)
        except UnicodeDecodeError:
            return False
        return b"\x00" not in decoded


class _MultipartCheck:
    """A streaming multipart parser that looks at part headers (field names, file names) and at
    the contents of non-file fields. A body it cannot parse is left to Starlette's parser."""

    def __init__(self, boundary: bytes) -> None:
        self.problem: str | None = None
        self.broken = False
        self.field = self.value = b""
        self.is_file = False
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        callbacks: MultipartCallbacks = {
            "on_part_begin": self._part_begin, "on_header_field": self._field,
            "on_header_value": self._value, "on_header_end": self._header_end,
            "on_part_data": self._data, "on_part_end": self._part_end,
        }
        self.parser = MultipartParser(boundary, callbacks)

    def _part_begin(self) -> None:
        self.is_file = False
        self.decoder.reset()

    def _field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def _value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def _header_end(self) -> None:
        (field, value), self.field, self.value = (self.field, self.value), b"", b""
        if not clean(field + value):
            self.problem = self.problem or "A form field's name or file name"
        elif field.lower() == b"content-disposition":
            _, options = parse_options_header(value)
            self.is_file = b"filename" in options

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.is_file or self.problem:
            return
        chunk = data[start:end]
        try:
            self.decoder.decode(chunk)
        except UnicodeDecodeError:
            chunk = b"\x00"
        if b"\x00" in chunk:
            self.problem = "A form field"

    def _part_end(self) -> None:
        if not self.is_file and not self.problem:
            try:
                self.decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.problem = "A form field"

    def feed(self, chunk: bytes, *, final: bool) -> bool:
        if not self.broken:
            try:
                self.parser.write(chunk)
            except MultipartParseError:
                self.broken = True
        return self.problem is None


def _body_check(scope: Scope) -> _UrlencodedCheck | _MultipartCheck | None:
    content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    kind, options = parse_options_header(content_type)
    if kind == b"application/x-www-form-urlencoded":
        return _UrlencodedCheck()
    if kind == b"multipart/form-data" and options.get(b"boundary"):
        try:
            return _MultipartCheck(options[b"boundary"])
        except (FormParserError, ValueError):  # an unusable boundary: Starlette's parser refuses the body itself
            return None
    return None


class InputGuardMiddleware:
    """400 for NUL or invalid UTF-8 in a request's text. Installed inside SessionMiddleware, so
    the error page knows who is signed in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if where := problem_before_body(scope):
            request = Request(scope, receive)
            response = await run_in_threadpool(error_page, request, 400, BadText(where).detail)
            await response(scope, receive, send)
            return
        check = _body_check(scope)
        if check is None:
            await self.app(scope, receive, send)
            return
        started = False

        async def checked_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                final = not message.get("more_body", False)
                if not check.feed(message.get("body", b""), final=final):
                    raise BadText(getattr(check, "problem", None) or "The form")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, checked_receive, tracking_send)
        except BadText as exc:  # read outside the app's error handlers: answer here
            if started:
                raise
            body = exc.detail.encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
