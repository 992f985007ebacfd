"""Grading the evaluation set and summing up how far the grader agrees with the labels."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from webapp.grading.evaluation.answers import KINDS, EvaluationSet, LabelledAnswer
from webapp.grading.evaluation.statistics import score_band, spearman, weighted_kappa
from webapp.grading.graders.text import RubricGrader
from webapp.grading.text_calibration import text_task

CREDITED = ("met", "partly")


@dataclass
class GradedAnswer:
    label: LabelledAnswer
    score: int
    verdicts: list[str]
    provisional: bool


@dataclass
class EvaluationReport:
    graded: list[GradedAnswer]
    milliseconds_per_answer: float
    kinds: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # kind → (n, grader mean, label mean)

    def __post_init__(self) -> None:
        by_kind: dict[str, list[GradedAnswer]] = defaultdict(list)
        for answer in self.graded:
            by_kind[answer.label.kind].append(answer)
        self.kinds = {kind: (len(rows), sum(r.score for r in rows) / len(rows),
                             sum(r.label.score for r in rows) / len(rows))
                      for kind in KINDS if (rows := by_kind.get(kind))}

    @property
    def spearman(self) -> float | None:
        return spearman([a.score for a in self.graded], [a.label.score for a in self.graded])

    @property
    def kappa(self) -> float | None:
        return weighted_kappa([score_band(a.score) for a in self.graded],
                              [score_band(a.label.score) for a in self.graded], 5)

    def _pairs(self) -> list[tuple[str, str]]:
        return [(label, verdict) for a in self.graded
                for label, verdict in zip(a.label.points, a.verdicts, strict=False)]

    @property
    def point_agreement(self) -> float:
        pairs = self._pairs()
        return sum(label == verdict for label, verdict in pairs) / len(pairs)

    @property
    def false_credit(self) -> tuple[int, int]:
        """(points credited, points labelled contradicted): credit for a point the answer contradicts."""
        contradicted = [verdict for label, verdict in self._pairs() if label == "contradicted"]
        return sum(v in CREDITED for v in contradicted), len(contradicted)

    @property
    def contradiction_recall(self) -> tuple[int, int]:
        contradicted = [verdict for label, verdict in self._pairs() if label == "contradicted"]
        return sum(v == "contradicted" for v in contradicted), len(contradicted)

    @property
    def wrong_contradictions(self) -> tuple[int, int]:
        """(points the grader called contradicted, of those the labels call met or partly)."""
        said = [label for label, verdict in self._pairs() if verdict == "contradicted"]
        return sum(label in CREDITED for label in said), len(said)


def evaluate(grader: RubricGrader, evaluation: EvaluationSet, *, questions: dict[str, Any],
             only: set[str] | None = None) -> EvaluationReport:
    """Grade every labelled answer (of the questions in ``only``, if given) through the real grader."""
    graded = []
    started = time.perf_counter()
    for label in evaluation.answers:
        if only is not None and label.question not in only:
            continue
        rubric = questions[label.question].rubric
        result = grader.grade(text_task(rubric, label.answer))
        graded.append(GradedAnswer(label, result.score, [p["verdict"] for p in result.feedback["points"]],
                                   bool(result.feedback.get("provisional"))))
    elapsed = time.perf_counter() - started
    return EvaluationReport(graded, 1000 * elapsed / max(1, len(graded)))


def _figure(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_report(report: EvaluationReport, *, title: str) -> str:
    """The report as markdown: per kind, then the overall agreement figures."""
    lines = [f"### {title}", "", "| kind of answer | answers | grader mean | interviewer mean |", "|---|---|---|---|"]
    for kind, (count, grader_mean, label_mean) in report.kinds.items():
        lines.append(f"| {kind} | {count} | {grader_mean:.0f} | {label_mean:.0f} |")
    credited, contradicted = report.false_credit
    caught, _ = report.contradiction_recall
    wrong, said = report.wrong_contradictions
    provisional = sum(a.provisional for a in report.graded)
    lines += [
        "",
        f"- answers: {len(report.graded)}; Spearman {_figure(report.spearman)}; "
        f"quadratic-weighted kappa (5 bands) {_figure(report.kappa)}",
        f"- per-point agreement with the labels: {100 * report.point_agreement:.0f} %",
        f"- false credit: {credited} of {contradicted} contradicted points credited "
        f"({100 * credited / max(1, contradicted):.0f} %); contradictions named: {caught} of {contradicted}",
        f"- points called contradicted that the labels credit: {wrong} of {said}",
        f"- provisional grades: {provisional} of {len(report.graded)}; "
        f"{report.milliseconds_per_answer:.1f} ms per answer",
    ]
    return "\n".join(lines)
