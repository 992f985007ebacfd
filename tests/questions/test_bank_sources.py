"""The shipped bank against the installed packages: every API a question records in `api:` still
exists (with the parameters it names), and its links point at official documentation."""

from __future__ import annotations

import importlib
import inspect
import re
from urllib.parse import urlsplit

import pytest

from webapp.questions.bank import default_bank_dir, read_path

BANK = read_path(default_bank_dir())
ROOTS = {"fastapi", "starlette", "pydantic", "pydantic_settings", "uvicorn", "sqlalchemy", "httpx2", "anyio"}
OFFICIAL = {"fastapi.tiangolo.com", "www.starlette.io", "starlette.dev", "docs.pydantic.dev", "www.uvicorn.org",
            "uvicorn.dev", "docs.sqlalchemy.org", "docs.python.org", "peps.python.org", "asgi.readthedocs.io",
            "www.rfc-editor.org", "datatracker.ietf.org", "html.spec.whatwg.org", "websockets.spec.whatwg.org",
            "developer.mozilla.org", "fetch.spec.whatwg.org", "spec.openapis.org", "www.python-httpx.org",
            "anyio.readthedocs.io", "opentelemetry.io", "www.w3.org", "sqlite.org", "www.sqlite.org",
            "www.postgresql.org", "owasp.org", "cheatsheetseries.owasp.org", "argon2-cffi.readthedocs.io",
            "pyjwt.readthedocs.io", "jsonlines.org", "graphql.org", "strawberry.rocks"}
_REF = re.compile(r"^(?P<path>[\w.]+)(?:\((?P<params>[\w, ]+)\))?$")


def resolve(ref: str) -> str | None:
    """Why ``ref`` does not name an installed API (None when it does)."""
    match = _REF.match(ref)
    if match is None:
        return f"{ref!r} is not a dotted name"
    parts = match["path"].split(".")
    if parts[0] not in ROOTS:
        return f"{ref!r}: only {sorted(ROOTS)} are checked"
    missing_module = object()
    target: object = missing_module
    for split in range(len(parts), 0, -1):  # the longest importable module, then attributes
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            if not hasattr(target, name):
                return f"{ref!r}: {'.'.join(parts[:split])} has no {name!r} here"
            target = getattr(target, name)
        break
    if target is missing_module:
        return f"{ref!r}: no such module"
    wanted = [p.strip() for p in (match["params"] or "").split(",") if p.strip()]
    if wanted:
        try:
            accepted = inspect.signature(target).parameters  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return f"{ref!r} takes no parameters we can read"
        missing = [p for p in wanted if p not in accepted]
        if missing:
            return f"{ref!r}: no parameter {', '.join(missing)}"
    return None


def test_the_checker_tells_a_missing_api_from_a_present_one() -> None:
    assert resolve("fastapi.Depends(use_cache)") is None
    assert resolve("fastapi.security.OAuth2PasswordBearer") is None
    assert resolve("starlette.middleware.base.BaseHTTPMiddleware.dispatch") is None
    assert resolve("fastapi.params.Depends.scope") is None  # a class attribute whose value is None
    assert "no 'on_startup_magic'" in resolve("fastapi.FastAPI.on_startup_magic")
    assert "no parameter cache" in resolve("fastapi.Depends(cache)")
    assert "only" in resolve("os.system")
    assert "no 'nope'" in resolve("fastapi.nope.thing")


REFERENCES = sorted({(q.slug, ref) for q in BANK.questions for ref in q.api})


@pytest.mark.parametrize(("slug", "ref"), REFERENCES, ids=[f"{s}:{r}" for s, r in REFERENCES])
def test_every_recorded_api_exists_in_the_installed_packages(slug: str, ref: str) -> None:
    assert resolve(ref) is None, f"{slug}: {resolve(ref)}"


def _links() -> list[tuple[str, str]]:
    found = []
    for q in BANK.questions:
        found += [(q.slug, link) for link in q.docs]
        found += [(q.slug, p.docs) for p in q.rubric if p.docs]
        found += [(q.slug, c.docs) for c in q.choices if c.docs]
    return found


def test_every_link_points_at_official_documentation_or_a_specification() -> None:
    elsewhere = [(slug, link) for slug, link in _links() if urlsplit(link).netloc not in OFFICIAL]
    assert elsewhere == [], "links outside the official docs and specifications"
