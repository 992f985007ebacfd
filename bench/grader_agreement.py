"""Text grader against labelled answers: the evaluation set of tests/grading/eval.

Run: ``.venv/bin/python -m bench.grader_agreement`` (``make bench`` runs every benchmark;
``rehearse grading eval`` prints the same figures).

Answers to every shipped text question (8 or more each), written blind (without the rubrics' claims) in
eight kinds, each labelled with the score a careful interviewer gives and a verdict per rubric
point, plus each question's model answer. The reference is the interviewers' labels themselves:
Spearman and kappa compare the grader's scores with them. Half the questions were used while
the grader was tuned; the held-out half was never looked at, so its figures are the honest
ones. Targets are checked on the whole set; "false credit" is the share of points labelled
*contradicted* that the grader credited.
"""

from __future__ import annotations

import statistics
import time

from webapp.grading.evaluation.report import EvaluationReport, format_report
from webapp.grading.evaluation.run import reports, shipped_evaluation
from webapp.grading.text_calibration import text_task
from webapp.submissions.service import MAX_ANSWER_CHARS

TARGETS = [  # (what, kind or figure, bound, at least?)
    ("strong answers mean ≥ 80", "strong", 80, True), ("terse-but-right answers mean ≥ 80", "terse", 80, True),
    ("fluent-but-wrong answers mean ≤ 35", "fluent_wrong", 35, False),
    ("filler-dressed answers mean ≤ 35", "dressed", 35, False), ("keyword lists mean ≤ 30", "keyword", 30, False),
    ("model answers mean ≥ 90", "model", 90, True),
]


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def target_lines(report: EvaluationReport) -> list[str]:
    lines = ["| target | whole set | |", "|---|---|---|"]
    for label, kind, bound, at_least in TARGETS:
        mean = report.kinds[kind][1]
        met = mean >= bound if at_least else mean <= bound
        lines.append(f"| Target: text grader, {label} | {mean:.0f} | {_verdict(met)} |")
    spearman = report.spearman or 0
    lines.append(f"| Target: text grader, Spearman ≥ 0.8 | {spearman:.2f} | {_verdict(spearman >= 0.8)} |")
    credited, contradicted = report.false_credit
    share = credited / max(1, contradicted)
    lines.append(f"| Target: text grader, false credit ≤ 5 % | {100 * share:.0f} % | {_verdict(share <= 0.05)} |")
    return lines


def hostile_timing() -> list[str]:
    """The longest answer a candidate may send (20,000 characters) made of every claim's words in
    one run-on stretch, against the evaluation's answers: what one hostile answer costs a grader."""
    grader, _, questions = shipped_evaluation()
    seconds = []
    for spec in questions.values():
        rubric = spec.rubric
        words = " ".join(a.strip() for p in spec.rubric for c in p.claims for s in c.split(";") for a in s.split("|"))
        text = ((words + " ") * (MAX_ANSWER_CHARS // max(1, len(words)) + 1))[:MAX_ANSWER_CHARS]
        started = time.perf_counter()
        grader.grade(text_task(rubric, text))
        seconds.append(time.perf_counter() - started)
    return [f"- A hostile answer ({MAX_ANSWER_CHARS:,} characters of every claim's words, no sentences), per question: "
            f"median {1000 * statistics.median(seconds):.0f} ms, worst {1000 * max(seconds):.0f} ms "
            "(the grader reads run-on text in 60-word pieces and judges at most 16 matches per clause, so the cost "
            "stays linear in the answer's length)."]


def report() -> str:
    found = reports()
    body = [format_report(r, title=title) for title, r in found.items() if r.graded]
    return "\n".join(["## Text grader against labelled answers", "", __doc__.split("\n\n", 1)[1].strip(), "",
                      *target_lines(found["whole set"]), "", "\n\n".join(body), "", *hostile_timing(), ""])


if __name__ == "__main__":
    print(report())
