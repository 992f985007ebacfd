"""Every list page's filter form works with its fields left empty, as browsers send it: a select
left at "any" or a cleared box means no filter, never a 422 (core/listing.py)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.helpers import ADMIN_PAGES_WITH_FILTERS


class _GetForms(HTMLParser):
    """The fields of every method="get" form of a page, by the form's action."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, list[str]] = {}
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and (found.get("method") or "get").lower() == "get":
            self._current = self.forms.setdefault(found.get("action") or "", [])
        elif tag in ("input", "select", "textarea") and self._current is not None and found.get("name"):
            if found.get("type") not in ("submit", "button"):
                self._current.append(str(found["name"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


@pytest.mark.parametrize("page", ADMIN_PAGES_WITH_FILTERS)
def test_a_filter_form_sent_with_every_field_empty_lists_everything(admin_client, bank, page) -> None:
    parser = _GetForms()
    parser.feed(admin_client.get(page).text)
    forms = {action or page: fields for action, fields in parser.forms.items() if fields}
    assert forms, f"{page} has no filter form"
    for action, fields in forms.items():
        empty = admin_client.get(action, params={name: "" for name in fields})
        assert empty.status_code == 200, f"{action} with {fields} empty: {empty.status_code} {empty.text[:300]}"
        partial = admin_client.get(action, params={name: "" for name in fields}, headers={"HX-Request": "true"})
        assert partial.status_code == 200, f"{action} (htmx) with {fields} empty: {partial.status_code}"
