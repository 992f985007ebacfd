"""Creating questions, revising them and changing their status; every change is audited."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.service import record_event
from webapp.core.errors import Invalid
from webapp.identity.models import User
from webapp.questions.bank import QuestionSpec, TopicSpec
from webapp.questions.models import (
    Difficulty,
    Question,
    QuestionKind,
    QuestionRevision,
    QuestionStatus,
    QuestionTag,
    Topic,
)
from webapp.questions.verification import ReferenceCheck, solutions_problem

# The fields of a spec that live in a revision (the rest is catalogue data on Question).
REVISION_FIELDS = (
    "kind", "title", "prompt", "reference_answer", "rubric", "calibration", "multiple", "choices",
    "starter_code", "hidden_tests", "example_tests", "reference_solution", "correct_solutions", "wrong_solutions",
    "equivalent_mutants", "limits", "allowed_extensions", "docs", "api",
)


def revision_content(spec: QuestionSpec) -> dict[str, Any]:
    data = spec.model_dump(mode="json", include=set(REVISION_FIELDS))
    data["limits"] = data["limits"] or {}
    return data


# Fields added after revisions were first hashed: left out while empty, so an older revision's
# hash still matches the same content imported again.
LATER_FIELDS = ("example_tests", "docs", "api")


def content_hash(content: dict[str, Any]) -> str:
    hashed = {k: v for k, v in content.items() if not (k in LATER_FIELDS and not v)}
    return hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()


def spec_of(question: Question) -> QuestionSpec:
    """The question as the bank format describes it (for export, editing and diffing)."""
    revision = question.current_revision
    assert revision is not None, "a question always has a current revision"
    data: dict[str, Any] = {
        "slug": question.slug, "topic": question.topic.slug, "difficulty": question.difficulty.value,
        "tags": question.tag_names, "status": question.status.value,
    }
    data.update({name: getattr(revision, name) for name in REVISION_FIELDS})
    data["kind"] = revision.kind.value
    data["limits"] = revision.limits or None
    # Stored revisions are read as they were saved, even if the rules have grown stricter since.
    return QuestionSpec.model_validate(data, context={"stored": True})


def upsert_topic(db: Session, *, spec: TopicSpec, position: int | None = None) -> Topic:
    topic = db.scalar(select(Topic).where(Topic.slug == spec.slug))
    if topic is None:
        topic = Topic(slug=spec.slug)
        db.add(topic)
    topic.name, topic.description = spec.name, spec.description
    if position is not None:
        topic.position = position
    db.flush()
    return topic


def _topic(db: Session, slug: str) -> Topic:
    topic = db.scalar(select(Topic).where(Topic.slug == slug))
    if topic is None:
        raise Invalid({"topic": f"unknown topic {slug!r}"})
    return topic


def _apply_catalogue(db: Session, question: Question, spec: QuestionSpec) -> None:
    question.topic = _topic(db, spec.topic)
    question.difficulty = Difficulty(spec.difficulty)
    wanted = sorted(set(spec.tags))
    if question.tag_names != wanted:
        question.tags = [QuestionTag(tag=t) for t in wanted]


def _add_revision(db: Session, question: Question, spec: QuestionSpec, actor: User | None) -> QuestionRevision:
    content = revision_content(spec)
    number = max((r.number for r in question.revisions), default=0) + 1
    revision = QuestionRevision(
        question=question, number=number, content_hash=content_hash(content),
        created_by_id=actor.id if actor else None, **{**content, "kind": QuestionKind(spec.kind)},
    )
    question.kind, question.title, question.search_text = revision.kind, revision.title, spec.prompt
    db.add(revision)
    db.flush()
    question.current_revision = revision
    return revision


def create_question(db: Session, *, spec: QuestionSpec, actor: User | None) -> Question:
    """A new question with its first revision (raises Invalid if the slug is taken)."""
    if db.scalar(select(Question.id).where(Question.slug == spec.slug)) is not None:
        raise Invalid({"slug": "A question with this slug already exists."})
    question = Question(slug=spec.slug, status=QuestionStatus(spec.status))
    _apply_catalogue(db, question, spec)
    db.add(question)
    _add_revision(db, question, spec, actor)
    record_event(db, actor=actor, action="question.created", target=f"question:{spec.slug}",
                 summary=f"{spec.title} ({spec.kind}, {spec.status})")
    return question


def revise_question(db: Session, *, question: Question, spec: QuestionSpec, actor: User | None) -> bool:
    """Apply an edited spec: a new revision if the content changed. Returns whether anything changed."""
    before = spec_of(question)
    changed_fields = [name for name in QuestionSpec.model_fields if getattr(before, name) != getattr(spec, name)]
    if not changed_fields:
        return False
    _apply_catalogue(db, question, spec)
    if content_hash(revision_content(spec)) != question.revision.content_hash:
        _add_revision(db, question, spec, actor)
    if spec.status != question.status.value:
        question.status = QuestionStatus(spec.status)
    record_event(db, actor=actor, action="question.revised", target=f"question:{question.slug}",
                 summary=f"changed: {', '.join(changed_fields)}",
                 details={"fields": changed_fields, "revision": question.revision.number})
    return True


def set_status(db: Session, *, question: Question, status: QuestionStatus, actor: User | None,
               check: ReferenceCheck | None = None) -> None:
    """Publish, unpublish (back to draft) or archive a question.

    A code question is published only when its known solutions score as labelled in the
    sandbox (``check``: the reference and known-correct ones 100, known-wrong ones less);
    Invalid otherwise.
    """
    if question.status == status:
        return
    revision = question.current_revision
    if status == QuestionStatus.published and revision is not None and revision.kind == QuestionKind.code:
        if problem := solutions_problem(check, question=revision):
            raise Invalid({"status": problem})
    before = question.status
    question.status = status
    record_event(db, actor=actor, action=f"question.{status.value}", target=f"question:{question.slug}",
                 summary=f"{question.title}: {before.value} → {status.value}",
                 details={"before": before.value, "after": status.value})
