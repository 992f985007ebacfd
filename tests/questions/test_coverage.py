"""The coverage table docs/question-bank.md shows: counts per topic by kind, difficulty and scenario."""

from __future__ import annotations

import subprocess
import sys

from webapp.questions.bank import default_bank_dir, parse_document
from webapp.questions.coverage import coverage_table

DOC = """
topics:
  - {slug: cors, name: CORS}
  - {slug: empty, name: Nothing yet}
questions:
  - slug: one
    topic: cors
    difficulty: hard
    tags: [scenario]
    kind: choice
    title: One
    prompt: Pick.
    choices: [{id: a, text: "Yes", correct: true}, {id: b, text: "No"}]
  - slug: two
    topic: cors
    difficulty: easy
    status: draft
    kind: choice
    title: Two
    prompt: Pick.
    choices: [{id: a, text: "Yes", correct: true}, {id: b, text: "No"}]
"""


def test_published_questions_are_counted_per_topic() -> None:
    lines = coverage_table(parse_document(DOC, filename="t.yaml")).splitlines()
    assert lines[0] == "| topic | questions | text | choice | code | easy | medium | hard | scenario |"
    assert lines[2] == "| `cors` | 1 | 0 | 1 | 0 | 0 | 0 | 1 | 1 |"  # the draft is not counted
    assert lines[3] == "| `empty` | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"
    assert lines[-1] == "| **all** | 1 | 0 | 1 | 0 | 0 | 0 | 1 | 1 |"


def test_the_command_prints_the_shipped_banks_table() -> None:
    done = subprocess.run([sys.executable, "-m", "webapp.cli", "questions", "coverage", str(default_bank_dir())],
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines()[0].startswith("| topic | questions |") and "| **all** |" in done.stdout
