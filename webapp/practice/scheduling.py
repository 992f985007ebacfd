"""Spaced repetition with FSRS: each graded answer reviews the question's card.

Grade → FSRS rating (documented in README "Practice"):
  score  0–39 → Again · 40–69 → Hard · 70–89 → Good · 90–100 → Easy

Interview questions are not flashcards: a missed question comes back the next day rather
than in a minute, so the learning and relearning steps are one day. Fuzzing is off, so a
schedule can be explained and tested.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from fsrs import Card, Rating, Scheduler
from fsrs.card import CardDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.core.db import lock_keys
from webapp.grading.worker import GradedAnswer
from webapp.practice.models import PracticeCard

SCHEDULER = Scheduler(learning_steps=(timedelta(days=1),), relearning_steps=(timedelta(days=1),),
                      enable_fuzzing=False)


def rating_for(score: int) -> Rating:
    if score < 40:
        return Rating.Again
    if score < 70:
        return Rating.Hard
    if score < 90:
        return Rating.Good
    return Rating.Easy


def record_graded_answer(db: Session, *, user_id: int, question_id: int, score: int, answered_at: datetime) -> None:
    """Review the card with this answer; an answer older than the card's last review (a regrade) is ignored.

    Only practice answers are recorded (the grader skips answers given in an assessment or a mock
    interview), or the schedule would tell the candidate a grade that is withheld from them (a
    card due tomorrow: a low score).

    Two answers to one question can be graded at once (two tabs, two workers): the lock makes the
    second wait for the first's card instead of inserting a duplicate or overwriting its review.
    """
    lock_keys(db, keys=[f"practice-card:{user_id}:{question_id}"])
    row = db.scalar(select(PracticeCard).where(PracticeCard.user_id == user_id,
                                               PracticeCard.question_id == question_id))
    if row is not None and answered_at <= row.last_review:
        return
    card = Card.from_dict(cast(CardDict, row.state)) if row is not None else Card()
    rating = rating_for(score)
    card, _ = SCHEDULER.review_card(card, rating, review_datetime=answered_at)
    if row is None:
        row = PracticeCard(user_id=user_id, question_id=question_id, reviews=0)
        db.add(row)
    row.state, row.due, row.last_review = dict(card.to_dict()), card.due, answered_at
    row.last_score, row.last_rating, row.reviews = score, int(rating), (row.reviews or 0) + 1


def on_graded(db: Session, graded: GradedAnswer) -> None:
    """The grading service's hook: a practice answer's grade moves its card (others do not)."""
    if graded.practice:
        record_graded_answer(db, user_id=graded.user_id, question_id=graded.question_id, score=graded.score,
                             answered_at=graded.answered_at)
