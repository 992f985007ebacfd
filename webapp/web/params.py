"""The types of every route parameter: path and query parameters use ``webapp.core.inputs``
directly (``submission_id: Id``); form fields use the ``Form…`` aliases below. A value out of
range or of the wrong kind is a 422 page naming the field (``web/errors.py``), never a query
the database fails on. (NUL characters and invalid UTF-8 never get this far:
``web/input_guard.py`` refuses them at the edge.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form

from webapp.core.inputs import Count, Day, Id, Line, PageNumber, Position, Score, Text

__all__ = ["Count", "Day", "FormCount", "FormId", "FormLine", "FormLines", "FormPosition", "FormText", "Id", "Line",
           "OptionalFormId", "PageNumber", "Position", "Score", "Text"]

FormText = Annotated[Text, Form()]  # an answer, a comment, a list of emails: many lines
FormLine = Annotated[Line, Form()]  # an email, a name, a code, a title
FormLines = Annotated[list[Line], Form()]  # repeated fields: checkboxes, multiple selects
FormId = Annotated[Id, Form()]
OptionalFormId = Annotated[Id | None, Form()]  # empty or missing: None
FormPosition = Annotated[Position | None, Form()]
FormCount = Annotated[Count, Form()]  # how many (questions, minutes): the service checks the choices
