"""The grader registry: question kind -> grader. A new grader is one class and one entry."""

from __future__ import annotations

from functools import lru_cache

import yaml

from webapp.grading.graders.base import Grader, GradeResult, GradingTask
from webapp.grading.graders.choice import ChoiceGrader
from webapp.grading.graders.code import CodeGrader
from webapp.grading.graders.text import RubricGrader
from webapp.grading.sandbox import shared_sandbox
from webapp.questions.bank import default_bank_dir

__all__ = ["Grader", "GradeResult", "GradingTask", "default_graders"]


@lru_cache(maxsize=1)
def shipped_synonyms() -> list[list[str]]:
    data = yaml.safe_load((default_bank_dir() / "synonyms.yaml").read_text(encoding="utf-8")) or {}
    return [[str(w).lower() for w in group] for group in data.get("synonyms", [])]


def default_graders(*, sandbox: str = "auto") -> dict[str, Grader]:
    """The graders of one process, keyed by question kind. ``sandbox`` is the
    REHEARSE_SANDBOX mode used for code (see webapp/grading/sandbox.py): the sandbox is
    built and probed once per process, and ``bwrap`` raises SandboxUnavailable when
    bubblewrap is unusable, so the app fails closed instead of running code unisolated."""
    return {"text": RubricGrader(shipped_synonyms()), "choice": ChoiceGrader(),
            "code": CodeGrader(shared_sandbox(sandbox))}
