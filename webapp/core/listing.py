"""What every list page shares: filters read from the query string and written back into
links, and keyset pages read with one row more than they show. Filter fields use the types
of ``core/inputs.py`` (ids, pages, days, text without NUL), so no filter reaches a query out
of the database's range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, model_validator

Row = TypeVar("Row")


class ListFilters(BaseModel):
    """A list's filters; ``query_string`` writes them back for links (empty values left out)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    cursor: ClassVar[tuple[str, ...]] = ()  # where a page continues: never carried into other links
    quiet_defaults: ClassVar[tuple[str, ...]] = ()  # left out of links while at their default

    @model_validator(mode="before")
    @classmethod
    def _empty_means_any(cls, data: Any) -> Any:
        """An empty field (a select left at "any", a cleared date or box) is no filter: its default.
        Forms send every field, so without this a list 422s as soon as one is left empty."""
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if value != "" and value != [""]}
        return data

    def query_string(self, **override: object) -> str:
        values = dict(_link_values(self))
        values.update(override)
        fields = type(self).model_fields
        return urlencode({k: v for k, v in values.items() if v not in ("", None)
                          and not (k in self.quiet_defaults and v == fields[k].default)})


def _dumped(filters: ListFilters) -> dict[str, object]:
    return {k: v for k, v in filters.model_dump(mode="json").items() if k not in filters.cursor}


_dumped_once = lru_cache(maxsize=256)(_dumped)  # by value: a list page writes dozens of links from one


def _link_values(filters: ListFilters) -> dict[str, object]:
    try:
        return _dumped_once(filters)
    except TypeError:  # a filter holding a list is not hashable: dump it each time
        return _dumped(filters)


def split_page(rows: Sequence[Row], per_page: int) -> tuple[list[Row], Row | None]:
    """The rows to show from a query limited to ``per_page + 1``, and the last shown row when
    there are more (its key is where the next page starts), else None."""
    items = list(rows[:per_page])
    return items, items[-1] if len(rows) > per_page and items else None
