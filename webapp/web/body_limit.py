"""Request body limits, enforced while the body streams in (Content-Length or chunked)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        kib = limit // 1024
        super().__init__(413, f"The request is larger than the {kib} KiB this page accepts. "
                              "Upload a smaller file or shorten your answer.")


class BodySizeLimitMiddleware:
    """413 as soon as a request body is known to exceed the limit for its path.

    ``limits`` maps path prefixes to byte limits (longest prefix wins), ``suffix_limits`` path
    endings (checked first: a JSON endpoint under pages that take uploads); ``default`` applies
    elsewhere. The exception is an HTTPException, so the app's 413 page renders it; if it
    escapes before any response started, a plain 413 is sent here.
    """

    def __init__(self, app: ASGIApp, *, default: int, limits: dict[str, int] | None = None,
                 suffix_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.limits = sorted((limits or {}).items(), key=lambda item: -len(item[0]))
        self.suffix_limits = sorted((suffix_limits or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for suffix, limit in self.suffix_limits:
            if path.endswith(suffix):
                return limit
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        # A declared length over the limit fails on the first read, before any byte is taken.
        too_long = declared is not None and declared.isdigit() and (len(declared) > 18 or int(declared) > limit)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            if too_long:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._reject(send, limit)

    @staticmethod
    async def _reject(send: Send, limit: int) -> None:
        body = BodyTooLarge(limit).detail.encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
