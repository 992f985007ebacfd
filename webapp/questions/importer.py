"""Importing a bank: a dry-run plan first, then one all-or-nothing transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from webapp.audit.service import record_event
from webapp.identity.models import User
from webapp.questions.bank import BankError, ParsedBank, QuestionSpec, check_references, dump_yaml
from webapp.questions.editing import create_question, revise_question, spec_of, upsert_topic
from webapp.questions.hidden_tests import HiddenTestsProblem, collect_tests
from webapp.questions.models import Question, Topic
from webapp.questions.verification import ReferenceCheck, solutions_problem


@dataclass
class ImportPlan:
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)  # see apply_import(only_new=True)
    errors: list[BankError] = field(default_factory=list)
    topics: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def to_apply(self) -> int:
        """Questions the import would write: new and changed ones."""
        return len(self.new) + len(self.changed)

    def summary(self) -> str:
        return (f"{len(self.new)} new, {len(self.changed)} changed, {len(self.unchanged)} unchanged, "
                f"{len(self.invalid)} invalid")


def _existing(db: Session, slugs: list[str]) -> dict[str, Question]:
    questions = db.scalars(
        select(Question).where(Question.slug.in_(slugs)).options(selectinload(Question.current_revision))
    )
    return {q.slug: q for q in questions}


def plan_import(db: Session, *, bank: ParsedBank, check: ReferenceCheck | None = None,
                checked: Mapping[str, str | None] | None = None) -> ImportPlan:
    """What importing ``bank`` would do, without changing anything.

    Published code questions that are new or changed must have known solutions that score as
    labelled: run here in the sandbox with ``check`` (the command line), or as already run by
    the graders with ``checked`` (slug → problem, None when all is well; a staged web import).
    """
    known_topics = set(db.scalars(select(Topic.slug)))
    check_references(bank, known_topics=known_topics)
    plan = ImportPlan(errors=list(bank.errors), topics=len(bank.topics))
    existing = _existing(db, [q.slug for q in bank.questions])
    for spec in bank.questions:
        if spec.slug in bank.invalid_slugs:
            continue
        current = existing.get(spec.slug)
        if current is None:
            plan.new.append(spec.slug)
        elif spec_of(current) == spec:
            plan.unchanged.append(spec.slug)
        else:
            plan.changed.append(spec.slug)
    if check is not None:
        _verify_code(plan, bank, lambda spec: solutions_problem(check, question=spec))
    elif checked is not None:
        _verify_code(plan, bank, lambda spec: checked.get(spec.slug, NOT_CHECKED))
    plan.invalid = sorted(bank.invalid_slugs)
    return plan


NOT_CHECKED = "Its known solutions were not checked (the bank changed since this file was staged): upload it again."


def needs_check(spec: QuestionSpec, plan: ImportPlan) -> bool:
    """A published code question the import would write: its known solutions must score as labelled."""
    return spec.kind == "code" and spec.status == "published" and spec.slug in plan.new + plan.changed


def _verify_code(plan: ImportPlan, bank: ParsedBank, problem_of: Callable[[QuestionSpec], str | None]) -> None:
    for spec in bank.questions:
        if not needs_check(spec, plan):
            continue
        if problem := problem_of(spec):
            plan.errors.append(BankError("", spec.slug, "reference_solution", problem))
            bank.invalid_slugs.add(spec.slug)
            for group in (plan.new, plan.changed):
                if spec.slug in group:
                    group.remove(spec.slug)


def apply_import(
    db: Session, *, bank: ParsedBank, actor: User | None, source: str, only_new: bool = False,
    check: ReferenceCheck | None = None, checked: Mapping[str, str | None] | None = None,
) -> ImportPlan:
    """Import everything or nothing: with any error, the plan is returned and nothing is written.

    ``only_new`` adds missing questions and topics but leaves existing ones as they are
    (how ``rehearse setup`` loads the shipped bank without undoing an admin's edits), except
    questions of an older format that no person has revised — code whose hidden tests can no
    longer be graded, text whose rubric is written as phrases instead of claims: those are
    brought up to date (``plan.refreshed``).
    """
    plan = plan_import(db, bank=bank, check=check, checked=checked)
    if not plan.ok:
        return plan
    if only_new:
        known = set(db.scalars(select(Topic.slug)))
        bank.topics = [t for t in bank.topics if t.slug not in known]
        plan.refreshed = _outdated_and_unedited(db, plan.changed, incoming={s.slug: s for s in bank.questions})
        plan.unchanged = plan.unchanged + [s for s in plan.changed if s not in plan.refreshed]
        plan.changed = list(plan.refreshed)
    if not plan.new and not plan.changed and not bank.topics:
        return plan
    offset = db.scalar(select(func.count()).select_from(Topic)) if only_new else 0
    for position, topic in enumerate(bank.topics, start=offset or 0):
        upsert_topic(db, spec=topic, position=position)
    existing = _existing(db, plan.changed)
    for spec in bank.questions:
        if spec.slug in plan.new:
            create_question(db, spec=spec, actor=actor)
        elif spec.slug in existing:
            revise_question(db, question=existing[spec.slug], spec=spec, actor=actor)
    record_event(db, actor=actor, action="bank.imported", target=source[:200], summary=plan.summary(),
                 details={"new": plan.new, "changed": plan.changed, "topics": plan.topics})
    db.flush()
    return plan


def _outdated_and_unedited(db: Session, slugs: list[str], *, incoming: dict[str, QuestionSpec]) -> list[str]:
    stale = []
    for slug, question in _existing(db, slugs).items():
        revision = question.current_revision
        if revision is None or revision.created_by_id is not None:
            continue
        if revision.kind.value == "text":
            if any(not point.claims for point in revision.rubric) and all(
                    point.claims for point in incoming[slug].rubric):
                stale.append(slug)  # graded by phrases, and the bank now has claims for it
        elif revision.kind.value == "code":
            try:
                collect_tests(revision.hidden_tests)
            except HiddenTestsProblem:
                stale.append(slug)
    return sorted(stale)


def current_specs(db: Session) -> list[QuestionSpec]:
    """Every question as its current revision says (any status), by slug."""
    questions = db.scalars(select(Question).options(selectinload(Question.current_revision))
                           .order_by(Question.slug)).all()
    return [spec_of(q) for q in questions]


def export_bank(db: Session) -> dict[str, list[dict[str, Any]]]:
    """The whole bank (every status) in the import format."""
    topics = db.scalars(select(Topic).order_by(Topic.position, Topic.slug)).all()
    return {
        "topics": [{"slug": t.slug, "name": t.name, "description": t.description} for t in topics],
        "questions": [_export_spec(spec) for spec in current_specs(db)],
    }


def _export_spec(spec: QuestionSpec) -> dict[str, object]:
    return spec.model_dump(mode="json", exclude_defaults=True) | {"slug": spec.slug, "status": spec.status.value}


def export_to_directory(db: Session, *, directory: Path) -> list[Path]:
    """Write the bank as the shipped bank is laid out: topics.yaml and one file per topic."""
    directory.mkdir(parents=True, exist_ok=True)
    data = export_bank(db)
    written = [directory / "topics.yaml"]
    written[0].write_text(dump_yaml({"topics": data["topics"]}), encoding="utf-8")
    by_topic: dict[str, list[dict[str, object]]] = {}
    for question in data["questions"]:
        by_topic.setdefault(str(question["topic"]), []).append(question)
    for index, topic in enumerate(data["topics"], start=1):
        questions = by_topic.pop(topic["slug"], [])
        if questions:
            path = directory / f"{index:02d}-{topic['slug']}.yaml"
            path.write_text(dump_yaml({"questions": questions}), encoding="utf-8")
            written.append(path)
    return written
