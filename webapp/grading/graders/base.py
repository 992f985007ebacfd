"""What a grader receives and returns. Plain data: no ORM, no web framework."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from webapp.questions.bank import ChoiceSpec, LimitsSpec
from webapp.questions.kinds import QuestionKind
from webapp.questions.rubric_spec import RubricPointSpec


@dataclass(frozen=True)
class GradingTask:
    """One answer to one question revision, as the grader needs it (the revision's parts in the bank's own models)."""

    kind: QuestionKind
    answer_text: str = ""
    choice_ids: tuple[str, ...] = ()
    code: str = ""
    rubric: tuple[RubricPointSpec, ...] = ()
    choices: tuple[ChoiceSpec, ...] = ()
    multiple: bool = False
    hidden_tests: str = ""
    limits: LimitsSpec | None = None  # None: the sandbox defaults
    fail_fast: bool = False  # stop at the first failing test (enough to know it is not 100: mutants)
    suite: str = "hidden"  # which tests `hidden_tests` holds, as feedback names them ("example": Run examples)


@dataclass(frozen=True)
class GradeResult:
    score: int  # 0-100
    feedback: dict[str, Any]


class Grader(Protocol):
    name: str
    version: str
    long_running: bool  # seconds per answer (code in a sandbox): quick kinds get a grader thread of their own

    def grade(self, task: GradingTask) -> GradeResult: ...
