"""What kind a question is, how hard, and where it stands: plain enums, shared by the models,
the bank format, the graders and the pages (no database code here)."""

from __future__ import annotations

import enum


class QuestionStatus(str, enum.Enum):
    draft = "draft"
    published = "published"
    archived = "archived"


class QuestionKind(str, enum.Enum):
    text = "text"
    choice = "choice"
    code = "code"


class Difficulty(str, enum.Enum):
    easy = "easy"
    medium = "medium"
    hard = "hard"
