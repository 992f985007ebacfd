"""The code sandbox (docs/sandbox.md): boxes that run untrusted programs, and the two-box
run of a code challenge.

``REHEARSE_SANDBOX``: ``bwrap`` fails closed (SandboxUnavailable), ``process`` warns that
nothing is isolated, ``auto`` prefers bwrap. A new sandbox runs one probe program first.
``REHEARSE_SANDBOX_WARM``: pairs of boxes a grader process keeps started ahead (pool.py).
"""

from __future__ import annotations

import subprocess
from functools import cache

from webapp.grading.sandbox.boxes import BwrapSandbox, ProcessSandbox, Sandbox
from webapp.grading.sandbox.challenge import ChallengeRun, run_challenge
from webapp.grading.sandbox.limits import Limits
from webapp.grading.sandbox.linux import SandboxUnavailable
from webapp.grading.sandbox.pool import WarmPool
from webapp.grading.sandbox.program import ProgramResult, run_program

__all__ = ["ChallengeRun", "Limits", "ProgramResult", "Sandbox", "SandboxUnavailable", "WarmPool",
           "make_sandbox", "run_challenge", "run_program", "sandbox_status", "shared_sandbox"]
PROBE = "import uvicorn, httpx2\nprint('probe ok')\n"  # what both boxes of a challenge import


def make_sandbox(mode: str, *, bwrap: str = "bwrap") -> Sandbox:
    if mode == "bwrap":
        return _probed(BwrapSandbox(bwrap=bwrap))
    if mode == "process":
        return _probed(ProcessSandbox())
    if mode != "auto":
        raise ValueError(f"unknown sandbox mode {mode!r}: use auto, bwrap or process")
    try:
        return _probed(BwrapSandbox(bwrap=bwrap))
    except SandboxUnavailable as exc:
        return _probed(ProcessSandbox(reason=f"auto: {exc}"))


def _probed(sandbox: Sandbox) -> Sandbox:
    try:
        result = run_program(sandbox, source=PROBE, limits=Limits(wall_seconds=30))
    except (OSError, subprocess.SubprocessError) as exc:  # e.g. the uid drop or mount setup was refused
        raise SandboxUnavailable(f"{sandbox.mode} sandbox could not start: {exc}") from exc
    if result.stdout.strip() != "probe ok":
        raise SandboxUnavailable(f"{sandbox.mode} sandbox probe failed (exit {result.exit_code}, signal "
                                 f"{result.signal}): {result.stderr.strip()[-500:] or 'no output'}")
    return sandbox


@cache
def shared_sandbox(mode: str) -> Sandbox:
    """One sandbox per mode per process (the probe runs once)."""
    return make_sandbox(mode)


def sandbox_status(mode: str) -> tuple[str, str | None]:
    """(effective mode, warning or None) for an admin banner; ("none", why) when bwrap is required but unusable."""
    try:
        sandbox = shared_sandbox(mode)
    except SandboxUnavailable as exc:
        return "none", f"Code grading is disabled: REHEARSE_SANDBOX={mode} but {exc}"
    return sandbox.mode, sandbox.warning
