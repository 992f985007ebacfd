"""What the route fuzzer sends and where: every parameter of every route, read from the app's
route table (path, query and form parameters FastAPI knows, query models field by field) and
from the rendered pages' forms (fields a route reads from ``request.form()`` itself), and the
hostile values for each kind of parameter."""

from __future__ import annotations

import enum
import random
import re
import typing
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi.routing import APIRoute
from pydantic import BaseModel

MISSING = object()  # the parameter is left out
Value = str | bytes | object  # bytes: raw, so b"\xff" is sent as %FF (not UTF-8)

NUMBERS: list[Value] = ["99999999999999999999", str(2**63), "2147483648", "-1", "0", "²", "١٢", "１２", "1.5", "1e9",
                        "9" * 10_000, "0x1f"]
TEXTS: list[Value] = ["a\x00b", b"\xff\xfe", b"caf\xc3", "x" * 10_000, "<script>alert(1)</script>", "' OR 1=1 --",
                      "\u202e\ufeff🙂", "%00", "../../etc/passwd", " "]
DATES: list[Value] = ["9999-12-31", "0001-01-01", "2024-02-30", "１２３４-01-01", "-1"]
ALWAYS: list[Value] = ["", MISSING, "a\x00b", b"\xff", "x" * 10_000, "true"]


@dataclass
class Param:
    name: str
    where: str  # "path", "query" or "form"
    kind: str  # "number", "date", "text", "list", "flag", "choice", "file"

    def values(self) -> list[Value]:
        # Text fields are often numbers the service reads ("time_limit", "final_score"): they get some too.
        typed = {"number": NUMBERS, "date": DATES + NUMBERS[:3]}.get(self.kind, TEXTS + ["²", "-1", NUMBERS[0]])
        if self.kind in ("flag", "choice"):
            typed = NUMBERS[:4] + TEXTS[:3] + ["maybe", "ADMIN"]
        values = ALWAYS + [v for v in typed if v not in ALWAYS]
        return [v for v in values if v is not MISSING] if self.where == "path" else values


def _kind(annotation: Any) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return _kind(args[0])
    if typing.get_origin(annotation) in (list, tuple, set):
        return "list"
    if args and typing.get_origin(annotation) is not None:  # X | None
        return _kind(args[0])
    if annotation is bool:
        return "flag"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "choice"
    if annotation is int:
        return "number"
    if annotation is date:
        return "date"
    if getattr(annotation, "__name__", "") == "UploadFile":
        return "file"
    return "text"


def _fields(dependant: Any) -> list[tuple[str, Any]]:
    found = [("path", f) for f in dependant.path_params] + [("query", f) for f in dependant.query_params]
    found += [("form", f) for f in dependant.body_params]
    for sub in dependant.dependencies:
        found += _fields(sub)
    return found


def route_params(route: APIRoute) -> list[Param]:
    """Path, query and form parameters the route declares, its dependencies' included; a query
    model (``Annotated[Filters, Query()]``) counts field by field."""
    params: dict[tuple[str, str], Param] = {}
    for where, model_field in _fields(route.dependant):
        annotation = model_field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for name, info in annotation.model_fields.items():
                params[(where, name)] = Param(info.alias or name, where, _kind(info.annotation))
        else:
            name = model_field.alias or model_field.name
            params[(where, name)] = Param(name, where, _kind(annotation))
    return list(params.values())


def api_routes(app: Any) -> list[APIRoute]:
    found: list[APIRoute] = []

    def walk(routes: Any) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif isinstance(route, APIRoute):
                found.append(route)

    walk(app.routes)
    return found


@dataclass
class Form:
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # what a browser sends unless a button is named
    options: dict[str, set[str]] = field(default_factory=dict)  # every value the page offers (buttons, options)

    def numbered(self, name: str) -> list[Value]:
        """Values like "remove-rubric-2" (a number in a value the page offers) with huge and Unicode
        numbers in that place."""
        stems = {m.group(1) for v in self.options.get(name, ()) if (m := re.fullmatch(r"(.*?)\d+", v, re.S))}
        return [stem + number for stem in sorted(stems)[:3] for number in ("9" * 5000, "²", NUMBERS[0], "-1")]


class FormReader(HTMLParser):
    """The POST forms of a page: action path and each field's name and first value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = Form(urlsplit(a.get("action", "")).path)
            self.forms.append(self._form)
        elif self._form is not None and "name" in a and a["name"] != "csrf_token":
            name = a["name"]
            if tag == "textarea":
                self._textarea = name
            if tag == "select":
                self._select = name
            self._form.options.setdefault(name, set()).add(a.get("value", ""))
            clicked = tag == "button" or a.get("type") == "submit"
            if tag == "input" and not clicked and (a.get("type") not in ("checkbox", "radio") or "checked" in a):
                self._form.fields.setdefault(name, []).append(a.get("value", ""))
            self._form.fields.setdefault(name, [])
        elif tag == "option" and self._form is not None and self._select:
            self._form.options.setdefault(self._select, set()).add(a.get("value", ""))
            values = self._form.fields[self._select]
            if not values or "selected" in a:
                values[:] = [a.get("value", "")]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea and not self._form.fields[self._textarea]:
            self._form.fields[self._textarea] = [data]


def page_forms(html: str) -> list[Form]:
    reader = FormReader()
    reader.feed(html)
    return reader.forms


def encoded(value: Value) -> str:
    """``value`` percent-encoded for a path, query or urlencoded body (bytes sent as they are)."""
    raw = value if isinstance(value, bytes) else str(value).encode()
    return quote(raw, safe="")


def urlencoded(fields: dict[str, list[Value]]) -> bytes:
    return "&".join(f"{encoded(k)}={encoded(v)}" for k, values in fields.items() for v in values).encode()


def sample(values: list[Value], k: int, seed: str) -> list[Value]:
    """``k`` of ``values``, the same ones every run (seeded by the route and parameter)."""
    return values if len(values) <= k else random.Random(seed).sample(values, k)
