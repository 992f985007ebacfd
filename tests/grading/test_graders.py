"""The rubric and choice graders, on the shipped bank's own questions and calibration answers."""

from __future__ import annotations

import pytest

from webapp.grading.graders import default_graders, shipped_synonyms
from webapp.grading.graders.base import GradingTask
from webapp.grading.graders.choice import ChoiceGrader
from webapp.grading.text_calibration import calibration_problem
from webapp.questions.bank import ChoiceSpec, default_bank_dir, read_path
from webapp.questions.kinds import QuestionKind

BANK = read_path(default_bank_dir())
TEXT = [q for q in BANK.questions if q.kind == "text"]
GRADER = default_graders()["text"]


def _task(spec, answer: str) -> GradingTask:
    return GradingTask(kind=QuestionKind.text, answer_text=answer, rubric=tuple(spec.rubric))


def _calibration(spec, expect: str) -> str:
    return next(c.answer for c in spec.calibration if c.expect == expect)


@pytest.mark.parametrize("spec", TEXT, ids=lambda s: s.slug)
def test_every_calibration_answer_scores_in_its_range(spec) -> None:
    assert calibration_problem(GRADER, question=spec) is None
    kinds = {c.expect for c in spec.calibration}
    assert {"strong", "partial", "off_topic", "wrong", "dressed"} <= kinds, kinds


@pytest.mark.parametrize("spec", TEXT, ids=lambda s: s.slug)
def test_shipped_rubrics_are_written_as_claims(spec) -> None:
    assert all(point.claims and not point.phrases for point in spec.rubric)
    assert any(point.misconceptions for point in spec.rubric)


@pytest.mark.parametrize("spec", TEXT, ids=lambda s: s.slug)
def test_model_answer_scores_high_and_strong_beats_partial(spec) -> None:
    assert GRADER.grade(_task(spec, spec.reference_answer)).score >= 90
    strong = GRADER.grade(_task(spec, _calibration(spec, "strong"))).score
    partial = GRADER.grade(_task(spec, _calibration(spec, "partial"))).score
    assert partial < strong


@pytest.mark.parametrize("spec", TEXT, ids=lambda s: s.slug)
def test_keyword_stuffing_scores_worse_than_a_real_answer(spec) -> None:
    words = [alternative.strip() for point in spec.rubric for claim in point.claims
             for slot in claim.split(";") for alternative in slot.split("|")]
    result = GRADER.grade(_task(spec, ", ".join(words)))
    assert result.score <= 10
    assert "keyword_list" in result.feedback["flags"]


def test_feedback_explains_every_point_with_evidence_and_hints() -> None:
    spec = TEXT[0]
    answer = _calibration(spec, "partial")
    feedback = GRADER.grade(_task(spec, answer)).feedback
    assert len(feedback["points"]) == len(spec.rubric)
    for point, rubric_point in zip(feedback["points"], spec.rubric, strict=True):
        if point["covered"]:
            start, end = point["span"]
            assert 0 <= start < end <= len(answer)
            assert point["evidence"].split()[0] in answer[start:end]
        if point["verdict"] != "met":
            assert point["hint"] == (rubric_point.hint or None)
        if point["verdict"] == "missed":
            assert point["evidence"] is None


def test_grading_is_deterministic() -> None:
    spec = TEXT[3]
    answer = _calibration(spec, "strong")
    assert GRADER.grade(_task(spec, answer)) == GRADER.grade(_task(spec, answer))


def test_too_short_answers_are_flagged_and_capped() -> None:
    spec = TEXT[0]
    result = GRADER.grade(_task(spec, "ASGI and Pydantic."))
    assert "too_short" in result.feedback["flags"] and result.score <= 30


def test_shipped_synonyms_load() -> None:
    assert len(shipped_synonyms()) >= 20


def test_choice_grader_single_and_multiple() -> None:
    grader = ChoiceGrader()
    choices = (ChoiceSpec(id="a", text="A", correct=True, explanation="yes"),
               ChoiceSpec(id="b", text="B", correct=False, explanation="no"),
               ChoiceSpec(id="c", text="C", correct=True, explanation="also"))
    single = choices[:2]
    assert grader.grade(GradingTask(kind=QuestionKind.choice, choice_ids=("a",), choices=single)).score == 100
    assert grader.grade(GradingTask(kind=QuestionKind.choice, choice_ids=("b",), choices=single)).score == 0
    multi = dict(kind=QuestionKind.choice, choices=choices, multiple=True)
    assert grader.grade(GradingTask(choice_ids=("a", "c"), **multi)).score == 100
    assert grader.grade(GradingTask(choice_ids=("a",), **multi)).score == 50
    assert grader.grade(GradingTask(choice_ids=("a", "b"), **multi)).score == 0
    feedback = grader.grade(GradingTask(choice_ids=("a", "b"), **multi)).feedback
    assert [c["selected"] for c in feedback["choices"]] == [True, True, False]
    assert all(c["explanation"] for c in feedback["choices"])


def test_grading_from_many_threads_is_safe() -> None:
    from concurrent.futures import ThreadPoolExecutor

    spec = TEXT[0]
    answers = [_calibration(spec, expect) for expect in ("strong", "partial", "off_topic")] * 40
    expected = [GRADER.grade(_task(spec, a)).score for a in answers]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda a: GRADER.grade(_task(spec, a)).score, answers)) == expected
