"""LIKE patterns built from what a user typed: the text is matched literally.

``%`` and ``_`` are LIKE's wildcards, so a search for ``50%`` or ``a_b`` built by pasting the
text into ``%…%`` would match far more than it says. Every LIKE made from user input goes
through ``contains_text``, which lets SQLAlchemy escape the wildcards (and its escape character).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, func


def contains_text(column: SQLColumnExpression[Any], text: str) -> ColumnElement[bool]:
    """``column`` contains ``text`` literally, ignoring case (both sides lowered)."""
    return func.lower(column).contains(text.casefold(), autoescape=True)
