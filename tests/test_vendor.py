"""Vendored files are exactly the pinned files recorded beside them (static/vendor for the site,
tests/e2e/vendor for the browser tests), and the code editor bundle is built from what the lockfile pins."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from webapp.core.config import PROJECT_ROOT

FOLDERS = {PROJECT_ROOT / "static" / "vendor": 3, PROJECT_ROOT / "tests" / "e2e" / "vendor": 1}
BUILD = PROJECT_ROOT / "static" / "build"
VENDOR_README = PROJECT_ROOT / "static" / "vendor" / "README.md"


def _recorded(folder):
    return re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", (folder / "README.md").read_text(), re.M)


@pytest.mark.parametrize("folder", list(FOLDERS), ids=lambda f: str(f.relative_to(PROJECT_ROOT)))
def test_vendored_files_match_recorded_checksums(folder):
    rows = _recorded(folder)
    assert len(rows) == FOLDERS[folder]
    for name, digest in rows:
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def _locked() -> dict[str, str]:
    """The packages the bundle is built from: the lockfile's, without the build tools (dev)."""
    lock = json.loads((BUILD / "package-lock.json").read_text())
    return {path.removeprefix("node_modules/"): entry["version"] for path, entry in lock["packages"].items()
            if path.startswith("node_modules/") and not entry.get("dev")}


def test_the_code_editor_bundle_lists_the_locked_package_versions():
    listed = dict(re.findall(r"^\| `([^`]+)` \| (\d+\.\d+\.\d+) \|$", VENDOR_README.read_text(), re.M))
    assert listed == _locked()
    # The bundle is named after its @codemirror/view version, and recorded with its sha256.
    assert f"codemirror-{listed['@codemirror/view']}.min.js" in dict(_recorded(VENDOR_README.parent))


def test_the_code_editor_packages_are_pinned_exactly():
    manifest = json.loads((BUILD / "package.json").read_text())
    lock = json.loads((BUILD / "package-lock.json").read_text())["packages"]
    for group in ("dependencies", "devDependencies"):
        for name, version in manifest[group].items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version}: pin an exact version"
            assert lock[f"node_modules/{name}"]["version"] == version, name


def test_the_site_serves_only_recorded_vendor_files():
    base = (PROJECT_ROOT / "templates" / "base.html").read_text()
    used = set(re.findall(r"/vendor/([^'\"]+)", base))
    assert used and used <= {name for name, _ in _recorded(VENDOR_README.parent)}


def test_the_bundles_build_inputs_are_not_served(client) -> None:
    assert client.get("/static/build/package.json").status_code == 404
    assert client.get("/static/build/../build/entry.js").status_code == 404
    assert client.get("/static/js/editor.js").status_code == 200
