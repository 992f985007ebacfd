"""The question bank: topics, questions and their immutable revisions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from webapp.core.db import Base, UTCDateTime, utcnow
from webapp.core.json_models import JSONModel, JSONModelList, as_model, as_models
from webapp.questions.bank import ChoiceSpec, EquivalentMutantSpec, LimitsSpec, SolutionSpec
from webapp.questions.kinds import Difficulty, QuestionKind, QuestionStatus
from webapp.questions.rubric_spec import CalibrationSpec, RubricPointSpec

__all__ = ["Difficulty", "QuestionKind", "QuestionStatus"]  # re-exported: models are where most code looks


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, validate_strings=True)


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class Question(Base):
    """A question's identity and catalogue data; its content lives in revisions.

    ``title``, ``kind`` and ``search_text`` repeat the current revision's values so the
    list page and full-text search need no join.
    """

    __tablename__ = "questions"
    __table_args__ = (
        Index("ix_questions_status_topic", "status", "topic_id"),
        Index("ix_questions_status_kind", "status", "kind"),
        Index("ix_questions_status_difficulty", "status", "difficulty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[QuestionStatus] = mapped_column(_enum(QuestionStatus), default=QuestionStatus.draft)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    difficulty: Mapped[Difficulty] = mapped_column(_enum(Difficulty))
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind))
    title: Mapped[str] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(Text, default="")
    current_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_revisions.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    topic: Mapped[Topic] = relationship(lazy="joined")
    tags: Mapped[list[QuestionTag]] = relationship(
        cascade="all, delete-orphan", order_by="QuestionTag.tag", lazy="selectin"
    )
    current_revision: Mapped[QuestionRevision | None] = relationship(
        foreign_keys=[current_revision_id], post_update=True
    )
    revisions: Mapped[list[QuestionRevision]] = relationship(
        back_populates="question", foreign_keys="QuestionRevision.question_id",
        order_by="QuestionRevision.number", cascade="all, delete-orphan",
    )

    @property
    def revision(self) -> QuestionRevision:
        """The current revision: every saved question has one (created with its first revision)."""
        if self.current_revision is None:
            raise LookupError(f"question {self.slug!r} has no current revision")
        return self.current_revision

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]


class CatalogueState(Base):
    """One row: a number the database bumps (triggers, migration 0019) on every change to what the
    question list is built from (questions' status, topic, difficulty, kind, title and search text;
    their tags; topics). Web processes cache the list per (token, version): a change anywhere, by any
    process or by hand in SQL, is seen by the next request. The token is new whenever the row is
    (re)created, so an emptied or restored database never reuses another's cache."""

    __tablename__ = "catalogue_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)


class QuestionTag(Base):
    __tablename__ = "question_tags"

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class QuestionRevision(Base):
    """An immutable snapshot of everything needed to show and grade a question."""

    __tablename__ = "question_revisions"
    __table_args__ = (UniqueConstraint("question_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind))
    title: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    reference_answer: Mapped[str] = mapped_column(Text, default="")
    # The structured parts are the bank format's own models (questions/bank.py), typed both ways.
    rubric: Mapped[list[RubricPointSpec]] = mapped_column(JSONModelList(RubricPointSpec), default=list)
    calibration: Mapped[list[CalibrationSpec]] = mapped_column(JSONModelList(CalibrationSpec), default=list)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    choices: Mapped[list[ChoiceSpec]] = mapped_column(JSONModelList(ChoiceSpec), default=list)
    starter_code: Mapped[str] = mapped_column(Text, default="")
    hidden_tests: Mapped[str] = mapped_column(Text, default="")
    example_tests: Mapped[str] = mapped_column(Text, default="", server_default="")  # shown to candidates
    reference_solution: Mapped[str] = mapped_column(Text, default="")
    correct_solutions: Mapped[list[SolutionSpec]] = mapped_column(JSONModelList(SolutionSpec), default=list)
    wrong_solutions: Mapped[list[SolutionSpec]] = mapped_column(JSONModelList(SolutionSpec), default=list)
    equivalent_mutants: Mapped[list[EquivalentMutantSpec]] = mapped_column(
        JSONModelList(EquivalentMutantSpec), default=list)
    limits: Mapped[LimitsSpec | None] = mapped_column(JSONModel(LimitsSpec), default=None, nullable=False)  # {}: none
    allowed_extensions: Mapped[list[str]] = mapped_column(JSON, default=list)
    docs: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    api: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # sha256 of the content, to tell an unchanged import from a changed one cheaply.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    question: Mapped[Question] = relationship(back_populates="revisions", foreign_keys=[question_id])

    @validates("rubric", "calibration", "choices", "correct_solutions", "wrong_solutions", "equivalent_mutants")
    def _typed_items(self, name: str, items: list[Any]) -> list[Any]:
        """Plain mappings become the column's models as they are assigned, not only once saved and read."""
        return as_models(_ITEM_MODELS[name], items)

    @validates("limits")
    def _typed_limits(self, name: str, limits: LimitsSpec | dict[str, Any] | None) -> LimitsSpec | None:
        return as_model(LimitsSpec, limits) if limits else None


_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "rubric": RubricPointSpec, "calibration": CalibrationSpec, "choices": ChoiceSpec,
    "correct_solutions": SolutionSpec, "wrong_solutions": SolutionSpec, "equivalent_mutants": EquivalentMutantSpec,
}


class CheckStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"


class SolutionCheck(Base):
    """One known solution of a staged import's code question, to be run against its hidden tests
    by a grader (grading/solution_checks.py), so the admin's request never waits on the sandbox.
    ``problem`` is None when the solution scored as labelled."""

    __tablename__ = "solution_checks"
    __table_args__ = (Index("ix_solution_checks_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("bank_imports.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    what: Mapped[str] = mapped_column(String(300))  # "The known-wrong solution “…”", as messages name it
    code: Mapped[str] = mapped_column(Text)
    should_pass: Mapped[bool] = mapped_column(Boolean)
    hidden_tests: Mapped[str] = mapped_column(Text)  # the tests it runs against: the hidden ones or the examples
    suite: Mapped[str] = mapped_column(String(10), default="hidden", server_default="hidden")
    limits: Mapped[LimitsSpec | None] = mapped_column(JSONModel(LimitsSpec), default=None, nullable=False)
    status: Mapped[CheckStatus] = mapped_column(_enum(CheckStatus), default=CheckStatus.queued)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[int | None] = mapped_column(Integer)
    problem: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BankImport(Base):
    """An uploaded bank file, kept between the dry run and the admin's confirmation."""

    __tablename__ = "bank_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
