"""Checking an uploaded code file: size, extension and text encoding.

The client's filename is only ever displayed (escaped); it is never used as a path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from webapp.core.errors import Invalid, Malformed, TooLarge

DEFAULT_EXTENSIONS = (".py", ".txt", ".md")


@dataclass(frozen=True)
class CodeText:
    text: str
    filename: str
    size: int
    sha256: str


def display_name(filename: str) -> str:
    """The last component of whatever path the browser sent, for display only."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    return "".join(c for c in name if c.isprintable())[:255] or "upload"


def decode_code(data: bytes, *, filename: str, field: str) -> CodeText:
    """UTF-8 text without NUL bytes, or Malformed naming the problem."""
    if b"\x00" in data:
        raise Malformed({field: f"{filename} contains a NUL byte: upload a text file, not a binary."})
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed({field: f"{filename} is not valid UTF-8 (byte {exc.start} is invalid)."}) from None
    return CodeText(text=text.removeprefix("\ufeff"), filename=filename, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest())


def read_upload(data: bytes, *, filename: str, allowed: list[str], max_bytes: int) -> CodeText:
    name = display_name(filename)
    extensions = tuple(allowed) or DEFAULT_EXTENSIONS
    if not name.lower().endswith(extensions):
        raise Invalid({"file": f"{name}: upload a {', '.join(extensions)} file."})
    if len(data) > max_bytes:
        raise TooLarge({"file": f"{name} is larger than {max_bytes // 1024} KiB."})
    if not data.strip():
        raise Invalid({"file": f"{name} is empty."})
    return decode_code(data, filename=name, field="file")
