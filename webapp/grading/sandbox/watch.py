"""Watching boxes: their pipes read concurrently, each under a byte cap, and their exits,
until a condition holds or a deadline passes. Nothing here blocks on one pipe."""

from __future__ import annotations

import os
import selectors
import time
from collections.abc import Callable

TRUNCATED = "\n… [output truncated]"


class Stream:
    """Bytes read from one pipe, up to ``cap``; past it the stream is marked and read no more."""

    def __init__(self, fd: int, cap: int, *, on_line: Callable[[bytes], None] | None = None,
                 on_overflow: Callable[[], None] | None = None, keep_draining: bool = False) -> None:
        self.fd, self.cap, self.keep_draining = fd, cap, keep_draining
        self.data = bytearray()
        self.overflowed = self.closed = False
        self._on_line, self._on_overflow = on_line, on_overflow
        self._line_start = 0

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        self.data += chunk[:room]
        if self._on_line is not None:
            while (end := self.data.find(b"\n", self._line_start)) >= 0:
                line, self._line_start = bytes(self.data[self._line_start:end]), end + 1
                self._on_line(line)
        if len(chunk) > room:
            self.overflowed = True
            if self._on_overflow is not None:
                self._on_overflow()

    def text(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        return text + TRUNCATED if self.overflowed else text


class Watcher:
    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._streams: dict[int, Stream] = {}
        self._exits: dict[int, Callable[[], None]] = {}

    def read(self, fd: int, cap: int, *, on_line: Callable[[bytes], None] | None = None,
             on_overflow: Callable[[], None] | None = None, keep_draining: bool = False) -> Stream:
        """Read ``fd`` up to ``cap`` bytes; past it stop reading (the writer blocks, and is usually
        killed), or with ``keep_draining`` read on and drop the rest (so the writer never blocks)."""
        os.set_blocking(fd, False)
        stream = self._streams[fd] = Stream(fd, cap, on_line=on_line, on_overflow=on_overflow,
                                            keep_draining=keep_draining)
        self._selector.register(fd, selectors.EVENT_READ)
        return stream

    def on_exit(self, pidfd: int, callback: Callable[[], None]) -> None:
        self._exits[pidfd] = callback
        self._selector.register(pidfd, selectors.EVENT_READ)

    def run(self, *, until: Callable[[], bool], deadline: float) -> bool:
        """Serve events until ``until()`` is true (True) or the deadline passes (False)."""
        while not until():
            now = time.monotonic()
            if now >= deadline:
                return False
            if not self._selector.get_map():
                return until()
            for key, _ in self._selector.select(min(deadline - now, 0.5)):
                self._handle(key.fd)
        return True

    def drain(self, fds: set[int], grace: float) -> None:
        """What the given pipes still hold once their writers are gone (or ``grace`` has passed)."""
        self.run(until=lambda: not fds & set(self._streams), deadline=time.monotonic() + grace)

    def _handle(self, fd: int) -> None:
        if fd in self._exits:
            self._selector.unregister(fd)
            self._exits.pop(fd)()
            return
        stream = self._streams[fd]
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        if chunk and not stream.overflowed:
            stream.feed(chunk)
        if not chunk or (stream.overflowed and not stream.keep_draining):
            self._selector.unregister(fd)
            del self._streams[fd]
            stream.closed = True

    def close(self) -> None:
        self._selector.close()
