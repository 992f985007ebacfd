"""The schema of a text question's grading: rubric points and calibration answers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from webapp.language.patterns import PatternError, compiled_pattern
from webapp.language.statements import claim_problem, split_misconception
from webapp.questions.spec_types import NonEmpty, StrictModel


class RubricPointSpec(StrictModel):
    """One point of a text rubric: the claims that earn it and the misconceptions that contradict it.

    A claim is ``slot ; slot``, each slot ``alternative | alternative`` (webapp/language/statements.py);
    a misconception is a claim, ``=>``, and why it is wrong. ``phrases`` is the older format: one
    phrase anywhere covered the point; such points still grade, as one-slot claims.
    """

    point: NonEmpty
    weight: int = Field(ge=1, le=5)
    claims: list[NonEmpty] = Field(default_factory=list, max_length=12)
    misconceptions: list[NonEmpty] = Field(default_factory=list, max_length=12)
    need: int = Field(default=1, ge=1, le=6)
    phrases: list[NonEmpty] = Field(default_factory=list)
    patterns: list[NonEmpty] = Field(default_factory=list)
    hint: str = ""
    docs: str | None = None

    @field_validator("claims")
    @classmethod
    def _check_claims(cls, claims: list[str]) -> list[str]:
        for number, claim in enumerate(claims, start=1):
            problem = claim_problem(claim)
            if problem is None and ";" not in claim and any(len(a.split()) < 2 for a in claim.split("|")):
                problem = ("a claim of one slot needs phrases of two or more words (one word proves nothing): "
                           "add a slot, as in 'subject ; what it does'")
            if problem:
                raise ValueError(f"claim {number} ({claim!r}): {problem}")
        return claims

    @field_validator("misconceptions")
    @classmethod
    def _check_misconceptions(cls, misconceptions: list[str]) -> list[str]:
        for number, text in enumerate(misconceptions, start=1):
            claim, why = split_misconception(text)
            problem = claim_problem(claim) or (None if why else "say why it is wrong after '=>'")
            if problem:
                raise ValueError(f"misconception {number} ({text!r}): {problem}")
        return misconceptions

    @field_validator("patterns")
    @classmethod
    def _check_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                compiled_pattern(pattern)
            except PatternError as exc:
                raise ValueError(str(exc)) from None
        return patterns

    @field_validator("docs")
    @classmethod
    def _check_docs(cls, docs: str | None) -> str | None:
        if docs and not docs.startswith("https://"):
            raise ValueError("docs must be an https:// link")
        return docs

    @model_validator(mode="after")
    def _check(self) -> RubricPointSpec:
        if not self.claims and not self.phrases and not self.patterns:
            raise ValueError("a rubric point needs at least one claim (or pattern)")
        if self.need > max(1, len(self.claims or self.phrases) + bool(self.patterns)):
            raise ValueError(f"need is {self.need} but the point has only {len(self.claims)} claims")
        return self


CalibrationKind = Literal["strong", "partial", "off_topic", "wrong", "dressed"]
CALIBRATION_BOUNDS = {  # expected score range of each kind of calibration answer
    "strong": (80, 100), "partial": (15, 79), "off_topic": (0, 20), "wrong": (0, 35), "dressed": (0, 35),
}


class CalibrationSpec(StrictModel):
    """An answer with the score range it must get: the bank's own regression test of its rubric."""

    expect: CalibrationKind
    answer: NonEmpty
    at_least: int | None = Field(default=None, ge=0, le=100)
    at_most: int | None = Field(default=None, ge=0, le=100)
    note: str = ""

    def bounds(self) -> tuple[int, int]:
        low, high = CALIBRATION_BOUNDS[self.expect]
        return (low if self.at_least is None else self.at_least, high if self.at_most is None else self.at_most)
