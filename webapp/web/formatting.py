"""Numbers and moments as pages show them: the arithmetic stays here, out of the templates."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from markupsafe import Markup


def seconds_since(earlier: datetime, now: datetime) -> int:
    """Whole seconds from ``earlier`` to ``now`` ("12 s ago")."""
    return round((now - earlier).total_seconds())


def waited(since: datetime, now: datetime) -> str:
    """How long something has waited, in the coarsest unit that reads well."""
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 2880:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"


def percent(fraction: float | None) -> int:
    """A 0–1 fraction as a whole percentage (None counts as 0)."""
    return round((fraction or 0) * 100)


def line_count(text: str) -> int:
    return text.count("\n") + 1


def counted(count: int, noun: str) -> str:
    """``3 | counted("question")`` → "3 questions", and "1 question" (nouns that take an s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def clock(seconds: int | None) -> str:
    """A duration as a clock face: 40 → "0:40", 3725 → "1:02:05" ("—" when there is none)."""
    if seconds is None:
        return "—"
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_WHEN = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M", "seconds": "%Y-%m-%d %H:%M:%S", "time": "%H:%M",
         "time_seconds": "%H:%M:%S"}


def when(moment: datetime, style: str = "datetime") -> Markup:
    """A moment as a <time> element: UTC in the page (and its title); app.js rewrites the text in
    the viewer's own time zone, so without JavaScript it still reads right, as UTC."""
    utc = f"{moment.astimezone(UTC).strftime(_WHEN[style])} UTC"
    return Markup('<time datetime="{}" title="{}" data-local="{}">{}</time>').format(
        moment.isoformat(), utc, style, utc)


def docs_title(url: str) -> str:
    """A link's readable name: its site and path, "fastapi.tiangolo.com › tutorial › dependencies"."""
    parts = urlsplit(url)
    steps = [unquote(step) for step in parts.path.split("/") if step and step not in ("en", "latest", "stable")]
    name = " › ".join([parts.netloc.removeprefix("www."), *steps[-3:]])
    return f"{name} # {unquote(parts.fragment)}" if parts.fragment else name


FILTERS = {"seconds_since": seconds_since, "waited": waited, "percent": percent, "line_count": line_count,
           "counted": counted, "clock": clock, "when": when, "docs_title": docs_title}
