"""Where a candidate stands on each question: new, attempted or solved, with the best score, from
their practice answers only (an assessment's grades may be withheld from them, so they never count)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from webapp.identity.models import User
from webapp.questions.catalogue import QuestionFilters, QuestionPage, browse_questions
from webapp.questions.kinds import QuestionKind
from webapp.submissions.models import Submission

# The best score that counts as solved: a written answer covering most key points; choices and
# code only when entirely right (a code answer at 80 still fails a hidden test).
SOLVED_AT = {QuestionKind.text: 80, QuestionKind.choice: 100, QuestionKind.code: 100}
STANDINGS = ("new", "attempted", "solved")


@dataclass(frozen=True)
class Standing:
    attempts: int
    best: int | None  # None while every answer waits for its grade
    solved: bool

    @property
    def label(self) -> str:
        return "solved" if self.solved else "attempted"


# Built once (every list page runs one): building them per request cost more than running them.
_EVERY_STANDING = (select(Submission.question_id, Submission.kind, func.count(), func.max(Submission.score))
                   .where(Submission.user_id == bindparam("user_id"), Submission.attempt_id.is_(None))
                   .group_by(Submission.question_id, Submission.kind))
_STANDINGS_OF = _EVERY_STANDING.where(Submission.question_id.in_(bindparam("question_ids", expanding=True)))


def standings(db: Session, *, user: User, question_ids: Iterable[int] | None = None) -> dict[int, Standing]:
    """Question id → the user's standing, for every question they answered in practice (or those given)."""
    if question_ids is None:
        rows = db.execute(_EVERY_STANDING, {"user_id": user.id})
    elif not (wanted := list(question_ids)):
        return {}
    else:
        rows = db.execute(_STANDINGS_OF, {"user_id": user.id, "question_ids": wanted})
    found: dict[int, Standing] = {}
    for question_id, kind, attempts, best in rows:
        solved = best is not None and best >= SOLVED_AT[QuestionKind(kind)]
        if (earlier := found.get(question_id)) is not None:  # its kind changed between revisions: both count
            best = max((b for b in (best, earlier.best) if b is not None), default=None)
            attempts, solved = attempts + earlier.attempts, solved or earlier.solved
        found[question_id] = Standing(attempts, best, solved)
    return found


def browse_with_standing(db: Session, *, user: User | None,
                         filters: QuestionFilters) -> tuple[QuestionPage, dict[int, Standing]]:
    """The question list, narrowed to the viewer's new, attempted or solved questions when asked;
    with the viewer's standing on the questions shown (their whole history only when it filters)."""
    wanted = filters.mine if user is not None and filters.mine in STANDINGS else ""
    if user is None:
        return browse_questions(db, filters=filters), {}
    if not wanted:
        page = browse_questions(db, filters=filters)
        return page, standings(db, user=user, question_ids=[q.id for q in page.items])
    mine = standings(db, user=user)
    if wanted == "new":
        page = browse_questions(db, filters=filters, without=list(mine))
    else:
        page = browse_questions(db, filters=filters, only=[q for q, s in mine.items() if s.label == wanted])
    return page, mine
