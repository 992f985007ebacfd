"""Vendored assets are exactly the pinned files recorded in static/vendor/README.md."""

from __future__ import annotations

import hashlib
import re

from webapp.core.config import PROJECT_ROOT

VENDOR = PROJECT_ROOT / "static" / "vendor"


def test_vendored_files_match_recorded_checksums():
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", (VENDOR / "README.md").read_text(), re.M)
    assert len(rows) == 2
    for name, digest in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
