"""A bank file uploaded on the web: staged, checked, then applied.

Staging keeps the file and queues one check per known solution of each published code question
it would write; the graders run them (grading/solution_checks.py) while the dry-run page shows
their progress, and the import applies only once every check has passed, so no web request
waits on the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.core.db import utcnow
from webapp.core.errors import Conflict, Malformed, NotFound, TooLarge
from webapp.identity.models import User
from webapp.questions.bank import MAX_FILE_BYTES, ParsedBank, parse_document
from webapp.questions.importer import ImportPlan, apply_import, needs_check, plan_import
from webapp.questions.models import BankImport, CheckStatus, SolutionCheck
from webapp.questions.verification import known_solutions

OnQueued = Callable[[Session], None]  # e.g. wake the graders when the transaction commits


def decode_upload(content: bytes) -> str:
    if len(content) > MAX_FILE_BYTES:
        raise TooLarge(f"The file is larger than {MAX_FILE_BYTES // 1024} KiB.")
    if (nul := content.find(b"\x00")) >= 0:
        raise Malformed(f"The file contains a NUL byte (byte {nul}): upload YAML text, not a binary file.")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"The file is not UTF-8 text (byte {exc.start} is invalid).") from None


@dataclass
class StagedImport:
    """What the dry-run page shows: the file, what importing it would do, how far its checks are."""

    staged: BankImport
    plan: ImportPlan
    checks: CheckProgress

    @property
    def ready(self) -> bool:
        return self.plan.ok and self.checks.finished and self.staged.applied_at is None


def stage_import(db: Session, *, filename: str, content: bytes, actor: User,
                 on_queued: OnQueued | None = None) -> StagedImport:
    """Keep the uploaded file, compute its dry-run plan and queue its known-solution checks
    (nothing in the bank changes)."""
    text = decode_upload(content)
    staged = BankImport(filename=filename[:255] or "upload.yaml", content=text, uploaded_by_id=actor.id)
    db.add(staged)
    db.flush()
    bank = parse_document(text, filename=staged.filename)
    plan = plan_import(db, bank=bank)
    queued = queue_checks(db, staged=staged, bank=bank, plan=plan) if plan.ok else 0
    if queued and on_queued is not None:
        on_queued(db)
    return StagedImport(staged, plan, CheckProgress(total=queued))


def staged_import(db: Session, *, import_id: int) -> StagedImport:
    """A staged import and its plan as of now, with the problems its finished checks found."""
    staged = db.get(BankImport, import_id)
    if staged is None:
        raise NotFound("There is no such staged import.")
    progress = check_progress(db, import_id=import_id)
    bank = parse_document(staged.content, filename=staged.filename)
    plan = plan_import(db, bank=bank, checked=progress.results() if progress.finished else None)
    return StagedImport(staged, plan, progress)


def apply_staged_import(db: Session, *, import_id: int, actor: User) -> ImportPlan | None:
    """Apply a staged import in this transaction; None if it does not exist or was applied.
    Refused while its checks run; a failed check makes the plan's errors and nothing is written."""
    staged = db.get(BankImport, import_id)
    if staged is None or staged.applied_at is not None:
        return None
    progress = check_progress(db, import_id=import_id)
    if not progress.finished:
        raise Conflict(f"The known solutions are still being checked ({progress.done} of {progress.total} done). "
                       "Import once the checks have finished.")
    plan = apply_import(db, bank=parse_document(staged.content, filename=staged.filename), actor=actor,
                        source=f"upload:{staged.filename}", checked=progress.results())
    if plan.ok:
        staged.applied_at = utcnow()
    return plan


def queue_checks(db: Session, *, staged: BankImport, bank: ParsedBank, plan: ImportPlan) -> int:
    """One queued check per known solution of each published code question the import would write."""
    checks = [SolutionCheck(import_id=staged.id, slug=spec.slug, what=solution.what[:300], code=solution.code,
                            should_pass=solution.should_pass, hidden_tests=solution.tests(spec), suite=solution.suite,
                            limits=spec.limits)
              for spec in bank.questions if needs_check(spec, plan) for solution in known_solutions(spec)]
    db.add_all(checks)
    db.flush()
    return len(checks)


@dataclass
class CheckProgress:
    """How far the graders are with one staged import's checks."""

    total: int = 0
    done: int = 0
    problems: dict[str, list[str]] = field(default_factory=dict)  # slug → what is wrong, in order
    slugs: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.done == self.total

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)

    def results(self) -> dict[str, str | None]:
        """Slug → its problems in one message, or None when every known solution scored as labelled."""
        return {slug: " ".join(self.problems[slug]) if slug in self.problems else None for slug in self.slugs}


def check_progress(db: Session, *, import_id: int) -> CheckProgress:
    rows = db.execute(select(SolutionCheck.slug, SolutionCheck.status, SolutionCheck.problem)
                      .where(SolutionCheck.import_id == import_id).order_by(SolutionCheck.id)).all()
    progress = CheckProgress(total=len(rows), slugs=list(dict.fromkeys(row.slug for row in rows)))
    for row in rows:
        if row.status == CheckStatus.done:
            progress.done += 1
            if row.problem:
                progress.problems.setdefault(row.slug, []).append(row.problem)
    return progress
