"""Presentation helpers for feedback: the answer with its rubric evidence highlighted."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape


def highlight_evidence(text: str, points: list[dict[str, Any]]) -> Markup:
    """The answer, escaped, with each judged point's sentence wrapped in <mark>: the evidence of a
    credited point, or the sentence that contradicts one (class ``contradiction``)."""
    spans = sorted(
        (p["span"][0], p["span"][1], index, p.get("verdict") == "contradicted")
        for index, p in enumerate(points) if p.get("span") and (p.get("covered") or p.get("verdict") == "contradicted")
    )
    parts: list[str] = []
    cursor = 0
    for start, end, index, contradiction in spans:
        if start < cursor or end > len(text):  # overlapping or stale span: leave it unmarked
            continue
        parts.append(str(escape(text[cursor:start])))
        css = ' class="contradiction"' if contradiction else ""
        parts.append(f'<mark id="evidence-{index + 1}"{css} title="Point {index + 1}">{escape(text[start:end])}</mark>')
        cursor = end
    parts.append(str(escape(text[cursor:])))
    return Markup("".join(parts))


def poll_delay_ms(seconds_waiting: float) -> int:
    """Poll fast at first (most answers are graded within a second), then back off."""
    if seconds_waiting < 5:
        return 300
    if seconds_waiting < 60:
        return 1000
    return 5000
