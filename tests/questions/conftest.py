from __future__ import annotations

import pytest

from webapp.db import session_scope
from webapp.questions.bank import default_bank_dir, read_path
from webapp.questions.importer import apply_import


@pytest.fixture
def bank(app):  # type: ignore[no-untyped-def]
    """The shipped bank, imported into this test's database."""
    parsed = read_path(default_bank_dir())
    with session_scope(app.state.db.write_session) as db:
        plan = apply_import(db, bank=parsed, actor=None, source="test")
    assert plan.ok, plan.errors
    return parsed
