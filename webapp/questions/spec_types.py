"""Field types shared by the bank's schema modules."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=80)]
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$", max_length=40)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
DocsLink = Annotated[str, StringConstraints(pattern=r"^https://\S+$", max_length=300)]
# An API the question relies on, checked against the installed packages (tests/questions/test_bank_sources.py):
# a dotted name, optionally with parameters it must accept: "fastapi.Depends(use_cache, scope)".
API_PATTERN = r"^[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+(\([a-z_][a-z0-9_]*(, ?[a-z_][a-z0-9_]*)*\))?$"
ApiRef = Annotated[str, StringConstraints(pattern=API_PATTERN, max_length=200)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
