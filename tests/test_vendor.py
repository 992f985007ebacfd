"""Vendored files are exactly the pinned files recorded beside them (static/vendor for the site,
tests/e2e/vendor for the browser tests)."""

from __future__ import annotations

import hashlib
import re

import pytest

from webapp.core.config import PROJECT_ROOT

FOLDERS = {PROJECT_ROOT / "static" / "vendor": 2, PROJECT_ROOT / "tests" / "e2e" / "vendor": 1}


@pytest.mark.parametrize("folder", list(FOLDERS), ids=lambda f: str(f.relative_to(PROJECT_ROOT)))
def test_vendored_files_match_recorded_checksums(folder):
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", (folder / "README.md").read_text(), re.M)
    assert len(rows) == FOLDERS[folder]
    for name, digest in rows:
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
