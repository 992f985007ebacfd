"""`make audit` fails on advisories and never reports an audit that could not happen as a pass."""

from __future__ import annotations

import importlib.util
import json
import stat
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("ci_audit", Path(__file__).parents[1] / ".ci" / "audit.py")
audit = sys.modules.setdefault("ci_audit", importlib.util.module_from_spec(_spec))  # dataclasses look it up
_spec.loader.exec_module(audit)

VULN = {"id": "GHSA-v9pg-7xvm-68hf", "fix_versions": ["0.0.31"], "aliases": ["CVE-2026-53540"]}


def _report(*dependencies) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_an_advisory_fails_and_names_the_fix():
    verdict = audit.judge(1, _report({"name": "python-multipart", "version": "0.0.28", "vulns": [VULN]},
                                     {"name": "jinja2", "version": "3.1.6", "vulns": []}), "")
    assert verdict.status == 1 and not verdict.unchecked
    assert "python-multipart 0.0.28: GHSA-v9pg-7xvm-68hf (CVE-2026-53540), fixed in 0.0.31" in verdict.report


def test_a_clean_audit_passes_and_lists_what_it_could_not_check():
    verdict = audit.judge(0, _report({"name": "jinja2", "version": "3.1.6", "vulns": []},
                                     {"name": "private-lib", "skip_reason": "Dependency not found on PyPI"},
                                     {"name": "rehearse", "skip_reason": "distribution marked as editable"}), "")
    assert verdict.status == 0 and not verdict.unchecked
    assert "No known advisories for the 1 installed packages" in verdict.report
    assert "Not checked (not found on the index): private-lib" in verdict.report and "rehearse" not in verdict.report


def test_an_index_without_advisory_data_is_not_a_pass():
    # What pip-audit prints, exit status 0, against a mirror whose JSON API has no advisories.
    skipped = [{"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: {n} (1.0)"}
               for n in ("jinja2", "starlette")]
    verdict = audit.judge(0, _report(*skipped, {"name": "rehearse", "skip_reason": "distribution marked as editable"}),
                          "No known vulnerabilities found\n")
    assert verdict.unchecked and "none of the 2 installed packages could be looked up" in verdict.report


def test_an_unreachable_service_is_said_so():
    stderr = ("Traceback (most recent call last):\n  ...\nrequests.exceptions.ConnectionError: HTTPSConnectionPool("
              "host='api.osv.dev', port=443): Max retries exceeded with url: /v1/query\n")
    verdict = audit.judge(1, "", stderr)
    assert verdict.unchecked and "could not be reached" in verdict.report and "api.osv.dev" in verdict.report
    broken = audit.judge(2, "", "pip-audit: error: unrecognized arguments: --nope\n")
    assert broken.status == 2 and not broken.unchecked and "unrecognized arguments" in broken.report


def _fake_pip_audit(tmp_path: Path, *, stdout: str, status: int) -> str:
    script = tmp_path / "pip-audit"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({stdout!r})\nsys.exit({status})\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.mark.processes
@pytest.mark.parametrize(("stdout", "status", "strict", "expected", "shown"), [
    (_report({"name": "jinja2", "version": "3.1.4", "vulns": [VULN]}), 1, False, 1, "fixed in 0.0.31"),
    (_report({"name": "jinja2", "version": "3.1.6", "vulns": []}), 0, False, 0, "No known advisories"),
    (_report({"name": "jinja2", "skip_reason": "Dependency not found on PyPI"}), 0, False, 0, "did NOT check"),
    (_report({"name": "jinja2", "skip_reason": "Dependency not found on PyPI"}), 0, True, 1, "did NOT check"),
])
def test_the_script_exits_with_the_verdict(tmp_path, monkeypatch, capsys, stdout, status, strict, expected, shown):
    monkeypatch.setenv("REHEARSE_AUDIT_STRICT", "1" if strict else "0")
    assert audit.main(["--pip-audit", _fake_pip_audit(tmp_path, stdout=stdout, status=status)]) == expected
    captured = capsys.readouterr()
    assert shown in captured.out + captured.err
    if "did NOT" in shown:
        assert "=" * 78 in captured.err  # a banner, not a line lost in the output
