"""Vendored files are exactly the pinned files recorded beside them (static/vendor for the site,
tests/e2e/vendor for the browser tests), and the two editor bundles are built from what the lockfile pins."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from webapp.core.config import PROJECT_ROOT

FOLDERS = {PROJECT_ROOT / "static" / "vendor": 4, PROJECT_ROOT / "tests" / "e2e" / "vendor": 1}
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


def _bundles() -> dict[str, str]:
    """The packages table of the README: package → the bundle it is in (both, live or neither)."""
    rows = re.findall(r"^\| `([^`]+)` \| (\d+\.\d+\.\d+) \| (both|live|neither) \|$", VENDOR_README.read_text(), re.M)
    assert dict((name, version) for name, version, _ in rows) == _locked()
    return {name: bundle for name, _, bundle in rows}


def _banner_packages(path) -> dict[str, str]:
    """The packages a bundle's first comment lists (those it holds code of), with their versions."""
    banner = path.read_text().split(" */", 1)[0]
    return dict(re.findall(r"^ \* (\S+) (\d+\.\d+\.\d+) \(MIT; ", banner, re.M))


def test_the_editor_bundles_list_the_locked_package_versions():
    bundles = _bundles()
    locked = _locked()
    recorded = dict(_recorded(VENDOR_README.parent))
    # Each bundle is named after a package's version, recorded with its sha256, and lists in its
    # first comment exactly the packages the README says it holds, at the locked versions.
    names = {"codemirror": f"codemirror-{locked['@codemirror/view']}.min.js", "live": f"live-{locked['yjs']}.min.js"}
    assert set(names.values()) <= set(recorded)
    codemirror = _banner_packages(VENDOR_README.parent / names["codemirror"])
    live = _banner_packages(VENDOR_README.parent / names["live"])
    assert codemirror == {name: locked[name] for name, bundle in bundles.items() if bundle == "both"}
    assert live == {name: locked[name] for name, bundle in bundles.items() if bundle in ("both", "live")}
    assert {"yjs", "y-codemirror.next", "y-websocket", "y-protocols", "lib0"} <= set(live)
    assert set(codemirror) < set(live)
    # Only one file of each bundle: an upgrade replaces the old one.
    built = [p.name for p in VENDOR_README.parent.glob("*.min.js") if p.name.startswith(("codemirror-", "live-"))]
    assert sorted(built) == sorted(names.values())


def test_only_the_interview_pages_load_the_live_bundle():
    base = (PROJECT_ROOT / "templates" / "base.html").read_text()
    assert "live-" not in base and "interview_room" not in base
    room = (PROJECT_ROOT / "static" / "js" / "interview_room.js").read_text()
    assert "data.bundle" in room and "live-" not in room  # the page says which file


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
