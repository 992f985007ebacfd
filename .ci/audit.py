"""`make audit`: the packages installed in the virtualenv against published advisories (pip-audit).

Any advisory fails the build. An audit that could not happen is never reported as a pass:
when the advisory source cannot be used (no network, or an index that answers without
advisory data, so that pip-audit finds every package "not on PyPI" and exits 0) this says so
in a banner and exits 0, or 1 with ``REHEARSE_AUDIT_STRICT=1`` (for a release build).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# How requests (under pip-audit) words a service it cannot reach.
UNREACHABLE = ("ConnectionError", "Max retries exceeded", "NameResolutionError", "Failed to resolve",
               "Temporary failure in name resolution", "timed out", "Connection refused", "SSLError", "ProxyError")


@dataclass(frozen=True)
class Verdict:
    status: int  # the exit status of `make audit`
    report: str
    unchecked: bool = False  # the advisory source could not be used: nothing was checked


def judge(returncode: int, stdout: str, stderr: str) -> Verdict:
    """What pip-audit's JSON report (or its failure) means for the build."""
    try:
        data = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        if any(hint in stderr for hint in UNREACHABLE):
            reason = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")[:300]
            return Verdict(0, f"the advisory service could not be reached ({reason})", unchecked=True)
        return Verdict(returncode or 1, "pip-audit failed:\n" + stderr[-3000:])
    dependencies = data.get("dependencies", [])
    findings = [f"  {d['name']} {d['version']}: {v['id']}"
                f"{' (' + ', '.join(v['aliases']) + ')' if v.get('aliases') else ''}, "
                f"fixed in {', '.join(v.get('fix_versions') or []) or 'no release yet'}"
                for d in dependencies for v in d.get("vulns", [])]
    if findings:
        return Verdict(1, "Known advisories in installed packages (raise the floor in pyproject.toml, "
                          "then `make install`):\n" + "\n".join(findings))
    audited = [d["name"] for d in dependencies if "skip_reason" not in d]
    skipped = [d["name"] for d in dependencies if "skip_reason" in d and "editable" not in d["skip_reason"]]
    if not audited:
        return Verdict(0, f"none of the {len(skipped)} installed packages could be looked up (pip-audit: "
                          "\"not found on PyPI\"): the package index answers without advisory data", unchecked=True)
    report = f"No known advisories for the {len(audited)} installed packages."
    if skipped:
        report += f"\nNot checked (not found on the index): {', '.join(sorted(skipped))}"
    return Verdict(returncode, report)


def banner(reason: str) -> str:
    rule = "=" * 78
    return (f"{rule}\nWARNING: `make audit` did NOT check the dependencies: {reason}.\n"
            "Nothing is known about their advisories. Run `make audit` where https://pypi.org answers\n"
            f"with advisory data before a release (REHEARSE_AUDIT_STRICT=1 makes this an error).\n{rule}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pip-audit", default=str(Path(sys.executable).with_name("pip-audit")),
                        help="the pip-audit executable (default: the one beside this Python)")
    args = parser.parse_args(argv)
    command = [args.pip_audit, "--local", "--skip-editable", "--format", "json", "--desc", "off",
               "--progress-spinner", "off"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except FileNotFoundError:
        print(f"{args.pip_audit} is missing: run `make install` (pip-audit is in the check extra)", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired:
        verdict = Verdict(0, "pip-audit did not finish within 10 minutes", unchecked=True)
    else:
        verdict = judge(done.returncode, done.stdout, done.stderr)
    if verdict.unchecked:
        print(banner(verdict.report), file=sys.stderr)
        return 1 if os.environ.get("REHEARSE_AUDIT_STRICT") == "1" else 0
    print(verdict.report, file=sys.stderr if verdict.status else sys.stdout)
    return verdict.status


if __name__ == "__main__":
    sys.exit(main())
