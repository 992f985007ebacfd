"""How the room's shared document is laid out: one text per question, named ``code-<question id>``
(the browser binds its editor to the same name, static/js/interview_room.js)."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Text


def text_name(question_id: int) -> str:
    return f"code-{question_id}"


def insert_text(doc: Doc[Any], name: str, content: str) -> None:
    """Append ``content`` to the named text (the server's one edit: a question's starter code)."""
    text = doc.get(name, type=Text)
    with doc.transaction():
        text += content


def text_of(doc: Doc[Any], question_id: int) -> str:
    return str(doc.get(text_name(question_id), type=Text))
