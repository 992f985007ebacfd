"""The labelled answers: YAML files of ``tests/grading/eval`` plus every question's model answer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["met", "partly", "missed", "contradicted"]
KINDS = ("strong", "terse", "partial", "fluent_wrong", "misconception", "dressed", "keyword", "off_topic", "model")


class LabelledAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    kind: Literal["strong", "terse", "partial", "fluent_wrong", "misconception", "dressed", "keyword",
                  "off_topic", "model"]
    score: int = Field(ge=0, le=100)
    points: list[Verdict]
    answer: str


@dataclass(frozen=True)
class EvaluationSet:
    answers: list[LabelledAnswer]
    held_out: frozenset[str]  # question slugs never looked at while the grader was tuned


def load(directory: Path, *, questions: dict[str, Any]) -> EvaluationSet:
    """Every ``*.yaml`` of the directory, and one model answer (labelled 100, all met) per question.

    ``questions`` maps slug → text question spec; answers to unknown questions, or with as
    many labels as the question has points, are errors: a stale set must not pass quietly.
    """
    answers: list[LabelledAnswer] = []
    held_out: set[str] = set()
    for file in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        held_out.update(data.get("held_out", []))
        for raw in data.get("answers", []):
            answer = LabelledAnswer.model_validate(raw)
            spec = questions.get(answer.question)
            if spec is None:
                raise ValueError(f"{file.name}: unknown text question {answer.question!r}")
            if len(answer.points) != len(spec.rubric):
                raise ValueError(f"{file.name}: {answer.question} has {len(spec.rubric)} points, "
                                 f"the label has {len(answer.points)}")
            answers.append(answer)
    for slug in sorted({a.question for a in answers}):
        spec = questions[slug]
        if spec.reference_answer.strip():
            answers.append(LabelledAnswer(question=slug, kind="model", score=100, points=["met"] * len(spec.rubric),
                                          answer=spec.reference_answer))
    return EvaluationSet(answers, frozenset(held_out))
