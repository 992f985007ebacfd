"""What the app accepts from outside, as types: ids within the database's integer range,
page numbers, scores, days the calendar arithmetic can handle, text without NUL characters,
and whole numbers typed into forms (ASCII digits only).

Plain Pydantic (``annotated_types`` bounds and validators), so list filters and services use
them as they are; ``web/params.py`` adds the FastAPI flavours (``Form()`` fields) for routes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from annotated_types import Ge, Le, MaxLen
from pydantic import AfterValidator

# Every id column is an INTEGER (32-bit on PostgreSQL; SQLite refuses integers past 64 bits):
# a larger id cannot exist, and sending one to the database is an error, not "no such row".
MAX_ID = 2**31 - 1
MAX_PAGE = 10_000
# Dates in filters: wide enough for any real use, narrow enough that a day's start and end
# (± a day) stay within what datetime can represent.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
MAX_TEXT = 1_000_000  # a field longer than this cannot fit through the body size limit anyway


def refuse_nul(value: str) -> str:
    """No NUL characters: PostgreSQL cannot store them, and no legitimate text contains one."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Id = Annotated[int, Ge(1), Le(MAX_ID)]
PageNumber = Annotated[int, Ge(1), Le(MAX_PAGE)]
Position = Annotated[int, Ge(1), Le(MAX_ID)]  # a 1-based place in a list (question, line, revision)
Count = Annotated[int, Ge(0), Le(MAX_ID)]
Score = Annotated[int, Ge(0), Le(100)]
Day = Annotated[date, Ge(FIRST_DAY), Le(LAST_DAY)]
Text = Annotated[str, MaxLen(MAX_TEXT), AfterValidator(refuse_nul)]
Line = Annotated[str, MaxLen(1_000), AfterValidator(refuse_nul)]  # one line: a name, an email, a search


def whole_number(text: str, *, low: int, high: int) -> int | None:
    """The number typed into a form field when it is a whole number from ``low`` to ``high``
    written in ASCII digits, else None. (``str.isdigit`` accepts "²" and "٣", which ``int``
    refuses or reads differently; and ``int`` refuses strings of more than 4,300 digits.)"""
    digits = text.strip().lstrip("0") or ("0" if text.strip() else "")
    if not digits or len(digits) > len(str(high)) or not (digits.isascii() and digits.isdigit()):
        return None
    value = int(digits)
    return value if low <= value <= high else None
