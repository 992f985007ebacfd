"""What changed between two revisions, as a reader wants it: one unified diff per changed text
field, and within a changed line the words that changed."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from webapp.questions.models import QuestionRevision

# The text fields a revision history shows, in the order of the editor.
FIELDS = (("prompt", "Prompt"), ("reference_answer", "Model answer"), ("starter_code", "Starter code"),
          ("hidden_tests", "Hidden tests"),
          ("example_tests", "Example tests"), ("reference_solution", "Reference solution"))
_WORDS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str
    # For a changed line, its pieces: (True, text) where the words differ from the other version.
    pieces: tuple[tuple[bool, str], ...] = ()


@dataclass
class FieldDiff:
    name: str
    label: str
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(line.kind != "same" for line in self.lines)


def line_diff(older: str, newer: str) -> list[DiffLine]:
    """A unified line diff; a replaced block pairs its lines and marks the words that changed."""
    old, new = older.splitlines(), newer.splitlines()
    lines: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            lines += [DiffLine("same", text) for text in old[i1:i2]]
            continue
        removed, added = old[i1:i2], new[j1:j2]
        pairs = min(len(removed), len(added)) if tag == "replace" else 0
        marked = [_word_pieces(removed[k], added[k]) for k in range(pairs)]
        lines += [DiffLine("removed", text, marked[k][0] if k < pairs else ()) for k, text in enumerate(removed)]
        lines += [DiffLine("added", text, marked[k][1] if k < pairs else ()) for k, text in enumerate(added)]
    return lines


def revision_diffs(revision: QuestionRevision, previous: QuestionRevision | None) -> list[FieldDiff]:
    """The fields that changed since ``previous`` (all non-empty fields for a first revision)."""
    diffs = []
    for name, label in FIELDS:
        before, after = getattr(previous, name) if previous else "", getattr(revision, name)
        if before != after or (previous is None and after):
            diffs.append(FieldDiff(name, label, line_diff(before, after)))
    return diffs


def _word_pieces(older: str, newer: str) -> tuple[tuple[tuple[bool, str], ...], tuple[tuple[bool, str], ...]]:
    a, b = _WORDS.findall(older), _WORDS.findall(newer)
    before: list[tuple[bool, str]] = []
    after: list[tuple[bool, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        before.append((tag != "equal", "".join(a[i1:i2])))
        after.append((tag != "equal", "".join(b[j1:j2])))
    return tuple(p for p in before if p[1]), tuple(p for p in after if p[1])
