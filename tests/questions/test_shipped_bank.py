"""The shipped bank: complete, valid, and every code challenge really discriminates."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.questions.runner import passed_all, run_hidden_tests
from webapp.questions.bank import QuestionSpec, check_references, default_bank_dir, read_path

BANK = read_path(default_bank_dir())
check_references(BANK, known_topics=set())
CODE = [q for q in BANK.questions if q.kind == "code"]


def test_bank_is_valid_against_the_schema() -> None:
    assert BANK.errors == []


def test_bank_covers_every_topic_with_a_text_question() -> None:
    assert len(BANK.topics) == 22
    texts = Counter(q.topic for q in BANK.questions if q.kind == "text")
    assert {t.slug for t in BANK.topics} <= set(texts)
    for spec in BANK.questions:
        if spec.kind == "text":
            assert 3 <= len(spec.rubric) <= 6, spec.slug
            assert len(spec.reference_answer.split()) >= 60, spec.slug
            assert {c.expect for c in spec.calibration} >= {"strong", "partial", "off_topic"}, spec.slug


def test_bank_sizes() -> None:
    kinds = Counter(q.kind for q in BANK.questions)
    assert len(BANK.questions) >= 45
    assert kinds["choice"] >= 12
    assert kinds["code"] >= 8
    assert all(q.wrong_solutions for q in CODE)
    assert set(Counter(q.difficulty for q in BANK.questions)) == {"easy", "medium", "hard"}


def _verdicts(spec: QuestionSpec) -> dict[str, bool]:
    candidates = {"reference": spec.reference_solution, "starter": spec.starter_code}
    candidates |= {f"wrong: {w.label}": w.code for w in spec.wrong_solutions}
    return {name: passed_all(run_hidden_tests(code, spec.hidden_tests)) for name, code in candidates.items()}


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict[str, bool]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip([q.slug for q in CODE], pool.map(_verdicts, CODE)))


@pytest.mark.parametrize("slug", [q.slug for q in CODE])
def test_code_challenge_discriminates(verdicts, slug: str) -> None:  # type: ignore[no-untyped-def]
    result = verdicts[slug]
    assert result.pop("reference") is True, f"{slug}: the reference solution must pass every hidden test"
    assert result.pop("starter") is False, f"{slug}: the starter code must not pass"
    for name, passed in result.items():
        assert passed is False, f"{slug}: {name} must fail at least one hidden test"
