"""Small server-rendered SVG charts: accessible (title, description, a data table beside
them) and coloured by CSS classes, so light and dark themes both work and the CSP holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from webapp.identity.models import User
from webapp.practice.stats import Day, TopicMastery, progress_for

WIDTH, HEIGHT, PAD = 560, 160, 28


def _svg(chart_id: str, title: str, description: str, body: str, *, height: int = HEIGHT) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        f"{body}</svg>"
    )


def activity_bars(days: Sequence[Day], *, chart_id: str = "activity") -> Markup:
    """One bar per day: how many answers were sent."""
    top = max((d.attempts for d in days), default=0) or 1
    slot = (WIDTH - 2 * PAD) / max(1, len(days))
    bars = []
    for n, day in enumerate(days):
        h = (HEIGHT - 2 * PAD) * day.attempts / top
        x, y = PAD + n * slot, HEIGHT - PAD - h
        bars.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(1.0, slot - 2):.1f}" height="{h:.1f}">'
                    f"<title>{day.day.isoformat()}: {day.attempts} answer{'s' if day.attempts != 1 else ''}"
                    "</title></rect>")
    axis = (f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}"/>'
            f'<text class="label" x="{PAD}" y="{HEIGHT - 8}">{days[0].day:%b %d}</text>'
            f'<text class="label" x="{WIDTH - PAD}" y="{HEIGHT - 8}" text-anchor="end">{days[-1].day:%b %d}</text>'
            f'<text class="label" x="{PAD - 4}" y="{PAD}" text-anchor="end">{top}</text>') if days else ""
    total = sum(d.attempts for d in days)
    summary = f"{total} answers over the last {len(days)} days; the busiest day had {top}."
    return _svg(chart_id, "Answers per day", summary,
                "".join(bars) + axis)


def score_line(days: Sequence[Day], *, chart_id: str = "scores") -> Markup:
    """Average score on each day with answers, joined by a line."""
    points = [(n, d, d.average) for n, d in enumerate(days) if d.average is not None]
    slot = (WIDTH - 2 * PAD) / max(1, len(days) - 1)

    def xy(n: int, value: float) -> tuple[float, float]:
        return PAD + n * slot, HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / 100

    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in
                    enumerate(xy(n, average) for n, _, average in points))
    dots = "".join(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{d.day.isoformat()}: '
                   f"average {average:g}</title></circle>" for n, d, average in points for x, y in [xy(n, average)])
    grid = "".join(f'<line class="grid" x1="{PAD}" x2="{WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text class="label" x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{v}</text>'
                   for v in (0, 50, 100) for _, y in [xy(0, v)])
    line = f'<path class="line" d="{path}" fill="none"/>' if path else ""
    description = (f"Average score on {len(points)} days with answers; latest {points[-1][1].average:g}."
                   if points else "No graded answers yet.")
    return _svg(chart_id, "Score over time", description, grid + line + dots)


def mastery_bars(topics: Sequence[TopicMastery], *, chart_id: str = "mastery") -> Markup:
    """One horizontal bar per tried topic: the mean of the best recent scores."""
    tried = [t for t in topics if t.mastery is not None]
    row, label_width = 22, 190
    height = max(40, row * len(tried) + 10)
    bars = []
    for n, topic in enumerate(tried):
        y = 5 + n * row
        w = (WIDTH - label_width - 50) * (topic.mastery or 0) / 100
        bars.append(f'<text class="label" x="{label_width - 6}" y="{y + 14}" text-anchor="end">'
                    f'{escape(topic.name)}</text>'
                    f'<rect class="bar mastery" x="{label_width}" y="{y}" width="{w:.1f}" height="{row - 6}"/>'
                    f'<text class="label" x="{label_width + w + 4:.1f}" y="{y + 14}">{topic.mastery}</text>')
    description = (", ".join(f"{t.name} {t.mastery}" for t in tried) if tried else "No topic tried yet.")
    return _svg(chart_id, "Mastery per topic", description, "".join(bars), height=height)


def progress_context(db: Session, *, user: User, viewer: User, now: datetime) -> dict[str, object]:
    """What a progress page shows of ``user`` to ``viewer``: the figures and their three charts."""
    progress = progress_for(db, user=user, viewer=viewer, now=now)
    return {"progress": progress, "activity_chart": activity_bars(progress.days),
            "score_chart": score_line(progress.days), "mastery_chart": mastery_bars(progress.topics)}
