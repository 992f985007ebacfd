"""What kind a question is, how hard, and where it stands: plain enums, shared by the models,
the bank format, the graders and the pages (no database code here)."""

from __future__ import annotations

import enum


class QuestionStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class QuestionKind(enum.StrEnum):
    text = "text"
    choice = "choice"
    code = "code"


class Difficulty(enum.StrEnum):
    easy = "easy"
    medium = "medium"
    hard = "hard"
