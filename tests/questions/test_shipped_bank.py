"""The shipped bank: complete, valid, and every code challenge really discriminates."""

from __future__ import annotations

from collections import Counter

import pytest

from webapp.core.config import PROJECT_ROOT
from webapp.grading.graders.code import CodeGrader
from webapp.grading.sandbox import SandboxUnavailable, shared_sandbox
from webapp.grading.verification import reference_checker
from webapp.questions.bank import check_references, default_bank_dir, read_path
from webapp.questions.coverage import SCENARIO_TAG, coverage_table
from webapp.questions.hidden_tests import collect_tests
from webapp.questions.verification import solutions_problem

pytestmark = pytest.mark.no_database
BANK = read_path(default_bank_dir())
check_references(BANK, known_topics=set())
CODE = [q for q in BANK.questions if q.kind == "code"]


def test_bank_is_valid_against_the_schema() -> None:
    assert BANK.errors == []


def test_bank_covers_every_topic_with_a_text_question() -> None:
    assert len(BANK.topics) == 33
    texts = Counter(q.topic for q in BANK.questions if q.kind == "text")
    assert {t.slug for t in BANK.topics} <= set(texts)
    for spec in BANK.questions:
        if spec.kind == "text":
            assert 3 <= len(spec.rubric) <= 6, spec.slug
            assert len(spec.reference_answer.split()) >= 60, spec.slug
            assert {c.expect for c in spec.calibration} >= {"strong", "partial", "off_topic"}, spec.slug


def test_bank_sizes() -> None:
    kinds = Counter(q.kind for q in BANK.questions)
    assert len(BANK.questions) >= 110
    assert kinds["choice"] >= 40 and kinds["text"] >= 40
    assert kinds["code"] >= 25
    assert all(len(q.wrong_solutions) >= 5 for q in CODE)
    assert Counter(q.difficulty for q in BANK.questions)["hard"] >= 30
    scenarios = [q for q in BANK.questions if SCENARIO_TAG in q.tags]
    assert len(scenarios) >= 12 and all(q.kind == "text" for q in scenarios)


def test_every_question_is_sourced() -> None:
    """Links to the docs for every question, rubric point and choice; the APIs it relies on recorded
    (tests/questions/test_bank_sources.py checks them against the installed packages)."""
    unsourced = [q.slug for q in BANK.questions if not q.docs or not q.api]
    points = [f"{q.slug}: {p.point[:40]}" for q in BANK.questions for p in q.rubric if not p.docs]
    choices = [f"{q.slug}/{c.id}" for q in BANK.questions for c in q.choices if not (c.docs and c.explanation)]
    assert (unsourced, points, choices) == ([], [], [])


def test_the_docs_show_the_banks_coverage() -> None:
    guide = (PROJECT_ROOT / "docs" / "question-bank.md").read_text(encoding="utf-8")
    shown = guide.split("<!-- coverage -->\n", 1)[1].split("\n<!-- /coverage -->", 1)[0]
    assert shown == coverage_table(BANK), "run `rehearse questions coverage webapp/question_bank` into the guide"


def _sandbox():
    try:
        return shared_sandbox("bwrap")
    except SandboxUnavailable:
        return shared_sandbox("process")


CHECK = reference_checker(CodeGrader(_sandbox()))


@pytest.mark.parametrize("slug", [q.slug for q in CODE])
@pytest.mark.sandbox
def test_code_challenge_discriminates(slug: str) -> None:
    """Through the real grader: the reference and every known-correct solution score 100,
    every known-wrong one and the starter code less (what publishing requires, plus the starter)."""
    spec = next(q for q in CODE if q.slug == slug)
    assert len(spec.correct_solutions) >= 2, f"{slug}: at least two known-correct solutions in other styles"
    assert solutions_problem(CHECK, question=spec) is None
    starter = CHECK(spec.starter_code, spec.hidden_tests, spec.limits, fail_fast=True)
    assert starter.score < 100, f"{slug}: the starter code must not pass"


@pytest.mark.parametrize("slug", [q.slug for q in CODE])
@pytest.mark.sandbox
def test_example_tests_pass_on_every_known_correct_solution(slug: str) -> None:
    """Run examples shows a few visible tests: every known-correct solution passes them, the
    starter code does not, and none of them is a hidden test (their names differ)."""
    spec = next(q for q in CODE if q.slug == slug)
    assert spec.example_tests.strip(), f"{slug}: a code challenge has example tests candidates can run"
    examples = [t.name for t in collect_tests(spec.example_tests)]
    assert 1 <= len(examples) <= 4, f"{slug}: a few example tests, not a second suite"
    hidden = {t.name for t in collect_tests(spec.hidden_tests)}
    assert not set(examples) & hidden, f"{slug}: an example is a hidden test"
    for code in [spec.reference_solution, *(c.code for c in spec.correct_solutions)]:
        result = CHECK(code, spec.example_tests, spec.limits, suite="example")
        assert result.score == 100, f"{slug}: a known-correct solution fails an example: {result.feedback['summary']}"
    assert CHECK(spec.starter_code, spec.example_tests, spec.limits).score < 100, f"{slug}: the starter passes"
