"""Grader calibration: how far the text grader agrees with interviewers' scorecards.

Every submitted review of a text answer pairs the grader's per-point verdicts with the
interviewer's ratings, and the automatic score with the interviewer's (the final score, or
the scorecard's weighted ratings when no final score was given). A disagreement can become a
calibration example of its question: a new revision whose calibration answer must score
near the interviewer's score, which ``questions check`` and CI then hold the grader to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from webapp.audit.service import record_event
from webapp.core.errors import Conflict, NotFound
from webapp.grading.evaluation.statistics import pearson, weighted_kappa
from webapp.identity.models import User
from webapp.questions.editing import revise_question, spec_of
from webapp.questions.models import Question, QuestionKind
from webapp.questions.rubric_spec import CalibrationKind, CalibrationSpec, RubricPointSpec
from webapp.review.models import Review, ReviewState
from webapp.submissions.models import Submission, SubmissionStatus

GRADER_ORDER = {"contradicted": 0, "missed": 1, "partly": 2, "met": 3}
RATING_ORDER = {"wrong": 0, "missed": 1, "partial": 2, "met": 3}
RATING_CREDIT = {"met": 1.0, "partial": 0.5, "missed": 0.0, "wrong": 0.0}
BAND = 15  # a calibration example must score within this many points of the interviewer's score


@dataclass
class Agreement:
    count: int = 0
    grader: list[int] = field(default_factory=list)
    interviewer: list[int] = field(default_factory=list)

    def add(self, grader: int, interviewer: int) -> None:
        self.count += 1
        self.grader.append(grader)
        self.interviewer.append(interviewer)

    @property
    def exact(self) -> float | None:
        if not self.count:
            return None
        return sum(g == i for g, i in zip(self.grader, self.interviewer, strict=True)) / self.count

    @property
    def kappa(self) -> float | None:
        return weighted_kappa(self.grader, self.interviewer, 4) if self.count >= 2 else None

    @property
    def correlation(self) -> float | None:
        return pearson(self.grader, self.interviewer)


@dataclass
class ReviewedAnswer:
    submission: Submission
    review: Review
    interviewer_score: int

    @property
    def grader_score(self) -> int:
        return graded_score(self.submission, self.review)

    @property
    def gap(self) -> int:
        return abs(self.grader_score - self.interviewer_score)


@dataclass
class QuestionCalibration:
    question: Question
    answers: list[ReviewedAnswer] = field(default_factory=list)
    scores: Agreement = field(default_factory=Agreement)
    points: dict[int, Agreement] = field(default_factory=lambda: defaultdict(Agreement))

    def disagreements(self, limit: int = 10) -> list[ReviewedAnswer]:
        return sorted((a for a in self.answers if a.gap), key=lambda a: -a.gap)[:limit]


def graded_score(submission: Submission, review: Review) -> int:
    """The automatic score the interviewer judged (stored with the review; older reviews: the current one)."""
    return review.grader_score if review.grader_score is not None else submission.score or 0


def graded_verdicts(submission: Submission, review: Review) -> list[str]:
    return review.grader_verdicts or [str(p.get("verdict")) for p in submission.feedback.get("points", [])]


def interviewer_score(review: Review, rubric: Sequence[RubricPointSpec]) -> int | None:
    """The interviewer's score: an override, else the scorecard's ratings weighted (met 1, partly
    ½), else the automatic score they accepted without rating points."""
    if review.final_score is not None:
        return review.final_score
    rated: list[tuple[int, str | None]] = [(point.weight, review.point_ratings.get(str(i)))
                                           for i, point in enumerate(rubric)]
    if not any(rating for _, rating in rated):
        return review.grader_score
    total = sum(weight for weight, _ in rated) or 1
    return round(100 * sum(weight * RATING_CREDIT.get(rating or "missed", 0) for weight, rating in rated) / total)


def calibration(db: Session, *, question_id: int | None = None) -> list[QuestionCalibration]:
    """Agreement per text question that has reviewed answers (one question when asked)."""
    statement = (
        select(Submission, Review).join(Review, Review.submission_id == Submission.id)
        .options(joinedload(Submission.question), joinedload(Submission.revision), joinedload(Submission.user))
        .where(Review.state == ReviewState.submitted, Submission.status == SubmissionStatus.graded,
               Submission.kind == QuestionKind.text)
        .order_by(Submission.id)
    )
    if question_id is not None:
        statement = statement.where(Submission.question_id == question_id)
    found: dict[int, QuestionCalibration] = {}
    for submission, review in db.execute(statement).unique().all():
        rubric = submission.revision.rubric
        human = interviewer_score(review, rubric)
        if human is None:
            continue
        entry = found.setdefault(submission.question_id, QuestionCalibration(submission.question))
        entry.answers.append(ReviewedAnswer(submission, review, human))
        entry.scores.add(graded_score(submission, review), human)
        for index, verdict in enumerate(graded_verdicts(submission, review)):
            rating = review.point_ratings.get(str(index))
            if rating in RATING_ORDER and verdict in GRADER_ORDER:
                entry.points[index].add(GRADER_ORDER[verdict], RATING_ORDER[rating])
    return sorted(found.values(), key=lambda c: c.question.title)


def add_calibration_example(db: Session, *, submission_id: int, actor: User) -> Question:
    """Make a reviewed answer a calibration example of its question (a new revision, audited)."""
    row = db.execute(select(Submission, Review).join(Review, Review.submission_id == Submission.id)
                     .where(Submission.id == submission_id)).first()
    if row is None or row[1].state != ReviewState.submitted:
        raise NotFound("There is no reviewed answer with that number.")
    submission, review = row
    if submission.kind != QuestionKind.text:
        raise Conflict("Only written answers can be calibration examples.")
    human = interviewer_score(review, submission.revision.rubric)
    if human is None:
        raise Conflict("The review gives neither ratings nor a final score.")
    question = submission.question
    spec = spec_of(question)
    if any(example.answer.strip() == submission.answer_text.strip() for example in spec.calibration):
        raise Conflict("This answer is already a calibration example of the question.")
    wrong = "wrong" in review.point_ratings.values()
    expect: CalibrationKind = ("wrong" if wrong and human <= 35 else "strong" if human >= 80
              else "off_topic" if human <= 20 else "partial")
    grader = graded_score(submission, review)
    example = CalibrationSpec(expect=expect, answer=submission.answer_text, at_least=max(0, human - BAND),
                              at_most=min(100, human + BAND),
                              note=f"from the review of answer {submission.id}: interviewer {human}, grader {grader}")
    spec.calibration.append(example)
    revise_question(db, question=question, spec=spec, actor=actor)
    record_event(db, actor=actor, action="grader.calibration_example", target=f"question:{question.slug}",
                 summary=f"answer {submission.id} ({expect}, interviewer {human}, grader {grader})",
                 details={"submission": submission.id, "expect": expect, "interviewer": human, "grader": grader})
    return question
