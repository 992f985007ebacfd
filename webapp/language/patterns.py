"""Admin-written regular expressions, run by RE2: linear time, so no pattern can stall a grader."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False
_OPTIONS.max_mem = 8 << 20


class PatternError(ValueError):
    pass


@lru_cache(maxsize=1024)
def compiled_pattern(pattern: str) -> Any:
    """The compiled, case-insensitive pattern; PatternError says why RE2 refuses it."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        message = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"pattern {pattern!r} is not a valid RE2 expression ({message}); "
                           "back-references and look-arounds are not supported") from None
