"""What a bank covers: questions per topic by kind and difficulty, as the Markdown table that
docs/question-bank.md shows (``rehearse questions coverage`` prints it; a test keeps the docs true)."""

from __future__ import annotations

from collections import Counter

from webapp.questions.bank import ParsedBank

SCENARIO_TAG = "scenario"  # a design, debugging or incident situation: "what is wrong, and what do you do?"
COLUMNS = ("text", "choice", "code", "easy", "medium", "hard", "scenario")


def coverage_table(bank: ParsedBank) -> str:
    """One row per topic (in the bank's order) and a total; every count is of published questions."""
    rows: dict[str, Counter[str]] = {topic.slug: Counter() for topic in bank.topics}
    for question in bank.questions:
        if question.status != "published":
            continue
        counts = rows.setdefault(question.topic, Counter())
        counts.update([question.kind.value, question.difficulty.value, "all"])
        if SCENARIO_TAG in question.tags:
            counts["scenario"] += 1
    total: Counter[str] = sum(rows.values(), Counter())
    lines = ["| topic | questions | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 2) + "|"]
    for slug, counts in [*rows.items(), ("**all**", total)]:
        lines.append(f"| {slug if slug.startswith('*') else f'`{slug}`'} | {counts['all']} | "
                     + " | ".join(str(counts[c]) for c in COLUMNS) + " |")
    return "\n".join(lines)
