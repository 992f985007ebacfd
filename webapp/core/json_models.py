"""JSON columns that hold pydantic models, so a row's structured content is typed in Python.

Values are validated when they are assigned or written and read back as they were saved:
a row stored under older, looser rules is not re-validated against today's stricter ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import JSON, Dialect
from sqlalchemy.types import TypeDecorator

M = TypeVar("M", bound=BaseModel)


def as_model(model: type[M], value: M | Mapping[str, Any]) -> M:
    """``value`` as an instance of ``model``: validated when it is a mapping, kept when it already is one."""
    return value if isinstance(value, model) else model.model_validate(value)


def as_models(model: type[M], values: Iterable[M | Mapping[str, Any]] | None) -> list[M]:
    return [as_model(model, value) for value in values or ()]


class JSONModelList(TypeDecorator[list[M]], Generic[M]):
    """A JSON array of ``model`` objects."""

    impl = JSON
    cache_ok = True

    def __init__(self, model: type[M]) -> None:
        super().__init__()
        self.model = model

    def process_bind_param(self, value: list[M] | None, dialect: Dialect) -> list[dict[str, Any]]:
        return [item.model_dump(mode="json") for item in as_models(self.model, value)]

    def process_result_value(self, value: list[dict[str, Any]] | None, dialect: Dialect) -> list[M]:
        return [self.model.model_construct(**item) for item in value or ()]


class JSONModel(TypeDecorator[M], Generic[M]):
    """One optional ``model`` object, stored as ``{}`` when there is none."""

    impl = JSON
    cache_ok = True

    def __init__(self, model: type[M]) -> None:
        super().__init__()
        self.model = model

    def process_bind_param(self, value: M | None, dialect: Dialect) -> dict[str, Any]:
        return {} if value is None else as_model(self.model, value).model_dump(mode="json")

    def process_result_value(self, value: dict[str, Any] | None, dialect: Dialect) -> M | None:
        return self.model.model_construct(**value) if value else None
