"""Code with line numbers, each line ready to carry review comments."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from webapp.review.models import ReviewComment

_SPANS = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=512)
def highlighted_lines(code: str) -> tuple[Markup, ...]:
    """One highlighted, escaped fragment per source line (Pygments closes spans at line ends)."""
    if not code:
        return ()
    html = highlight(code, PythonLexer(), _SPANS)
    lines = html.split("\n")
    expected = code.count("\n") + 1
    return tuple(Markup(line) for line in (lines + [""] * expected)[:expected])


def comments_by_line(comments: list[ReviewComment]) -> dict[int | None, list[ReviewComment]]:
    grouped: dict[int | None, list[ReviewComment]] = defaultdict(list)
    for comment in comments:
        grouped[comment.line].append(comment)
    return grouped
