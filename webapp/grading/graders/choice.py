"""Multiple-choice grading: exact, with every choice explained."""

from __future__ import annotations

from webapp.grading.graders.base import GradeResult, GradingTask


class ChoiceGrader:
    """Single answer: right or wrong. Several answers: 100 only for exactly the right set,
    otherwise credit for each right pick minus each wrong pick (never below 0)."""

    name = "choice"
    version = "1"
    long_running = False

    def grade(self, task: GradingTask) -> GradeResult:
        chosen = set(task.choice_ids)
        correct = {c.id for c in task.choices if c.correct}
        if chosen == correct:
            score = 100
        elif task.multiple:
            hits, misses = len(chosen & correct), len(chosen - correct)
            score = max(0, round(100 * (hits - misses) / len(correct)))
        else:
            score = 0
        feedback = {
            "kind": "choice",
            "multiple": task.multiple,
            "all_correct": chosen == correct,
            "choices": [
                {"id": c.id, "text": c.text, "selected": c.id in chosen, "correct": c.correct,
                 "explanation": c.explanation, "docs": c.docs}
                for c in task.choices
            ],
        }
        return GradeResult(score=score, feedback=feedback)
