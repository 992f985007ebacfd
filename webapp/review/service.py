"""Reviewing a submission: claims, the scorecard, comments on lines, and the final score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from webapp.assessments.models import CandidateFeedback
from webapp.audit.service import record_event
from webapp.core.db import Database, rows_changed, session_scope, utcnow
from webapp.core.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.core.inputs import whole_number
from webapp.identity.models import User
from webapp.mail.delivery import queue_message
from webapp.review.models import Recommendation, Review, ReviewComment, ReviewState
from webapp.submissions.models import Submission, SubmissionStatus
from webapp.submissions.visibility import author_sees, shown_to

CLAIM_FOR = timedelta(minutes=30)
RATINGS = ("missed", "partial", "met", "wrong")  # "wrong": the answer contradicts the point


def get_review(db: Session, *, submission_id: int) -> Review | None:
    return db.scalar(select(Review).where(Review.submission_id == submission_id).options(joinedload(Review.reviewer)))


def request_review(db: Session, *, submission: Submission, replaces_older: bool = False) -> Review:
    """Put a submission in the review queue (idempotent). For an assessment answer, an
    unclaimed request for an earlier answer to the same question in the same attempt is
    withdrawn: interviewers review what the candidate finally answered."""
    if replaces_older and submission.attempt_id is not None:
        older = select(Submission.id).where(Submission.attempt_id == submission.attempt_id,
                                            Submission.question_id == submission.question_id,
                                            Submission.id != submission.id)
        db.execute(delete(Review).where(Review.submission_id.in_(older), Review.state == ReviewState.requested)
                   .execution_options(synchronize_session=False))
    review = get_review(db, submission_id=submission.id)
    if review is None:
        review = Review(submission_id=submission.id, state=ReviewState.requested)
        db.add(review)
        db.flush()
    return review


def claim(db: Session, *, submission: Submission, reviewer: User) -> Review:
    """Take (or extend) the claim on a submission; 409 while someone else holds it."""
    now = utcnow()
    review = get_review(db, submission_id=submission.id)
    if review is None:
        review = Review(submission_id=submission.id, reviewer_id=reviewer.id, state=ReviewState.in_progress,
                        claimed_at=now, claim_expires_at=now + CLAIM_FOR)
        try:
            with db.begin_nested():
                db.add(review)
        except IntegrityError:  # another reviewer claimed it a moment ago
            raise Conflict({"form": "Someone else has just claimed this submission."}) from None
        return review
    if review.state == ReviewState.submitted:
        raise Conflict({"form": "This submission has already been reviewed."})
    held = review.state == ReviewState.in_progress and review.claim_expires_at and review.claim_expires_at > now
    if review.reviewer_id != reviewer.id and held:
        holder = review.reviewer.display_name if review.reviewer else "someone"
        raise Conflict({"form": f"{holder} is reviewing this until {review.claim_expires_at:%H:%M} UTC."})
    # Compare-and-set, so two reviewers taking over an expired claim cannot both win.
    taken = rows_changed(db,
        update(Review).where(Review.id == review.id, Review.state == review.state,
                             Review.reviewer_id.is_(None) if review.reviewer_id is None
                             else Review.reviewer_id == review.reviewer_id)
        .values(reviewer_id=reviewer.id, state=ReviewState.in_progress, claim_expires_at=now + CLAIM_FOR,
                claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not taken:
        raise Conflict({"form": "Someone else has just claimed this submission."})
    db.refresh(review)
    return review


def _holding(db: Session, *, submission: Submission, reviewer: User) -> Review:
    review = get_review(db, submission_id=submission.id)
    if review is None or review.state != ReviewState.in_progress:
        return claim(db, submission=submission, reviewer=reviewer)
    if review.reviewer_id != reviewer.id:
        return claim(db, submission=submission, reviewer=reviewer)  # raises while someone else holds it
    return review


@dataclass(frozen=True)
class Scorecard:
    ratings: dict[str, str]
    recommendation: str
    overall_comment: str
    final_score: str
    override_reason: str


def save_scorecard(db: Session, *, submission: Submission, reviewer: User, card: Scorecard, submit: bool,
                   public_url: str = "") -> Review:
    """Save the draft, or submit it. A final score different from the automatic one needs a reason.
    The card is checked before the review is claimed: a refused card claims nothing."""
    errors: dict[str, str] = {}
    ratings = {k: v for k, v in card.ratings.items() if v in RATINGS}
    recommendation = Recommendation(card.recommendation) if card.recommendation in Recommendation.__members__ else None
    final = _parse_score(card.final_score, errors)
    overriding = final is not None and final != submission.score
    if overriding and not card.override_reason.strip():
        errors["override_reason"] = "Explain why you change the automatic score."
    if submit and recommendation is None:
        errors["recommendation"] = "Choose a recommendation before submitting the review."
    if errors:
        raise Invalid(errors)
    review = _holding(db, submission=submission, reviewer=reviewer)
    review.point_ratings, review.recommendation = ratings, recommendation
    review.overall_comment = card.overall_comment.strip()[:20_000]
    review.final_score = final if overriding else None
    review.override_reason = card.override_reason.strip()[:2000] if overriding else ""
    if submit:
        review.state, review.submitted_at = ReviewState.submitted, utcnow()
        review.grader_score = submission.score
        review.grader_verdicts = [str(p.get("verdict") or ("met" if p.get("covered") else "missed"))
                                  for p in submission.feedback.get("points", [])]
        record_event(db, actor=reviewer, action="review.submitted", target=f"submission:{submission.id}",
                     summary=f"recommendation {recommendation.value if recommendation else 'none'}")
        if overriding:
            record_event(db, actor=reviewer, action="review.score_overridden", target=f"submission:{submission.id}",
                         summary=f"{submission.score} → {final}: {review.override_reason}"[:500],
                         details={"auto": submission.score, "final": final})
        if public_url:
            _tell_the_author(db, submission=submission, public_url=public_url)
    return review


def _tell_the_author(db: Session, *, submission: Submission, public_url: str) -> None:
    """Email the candidate that the review is ready, if they want that and may read it now (not while
    an assessment's feedback is withheld)."""
    author = submission.user
    if not author.review_emails or not shown_to(author, submission, now=utcnow()).full:
        return
    link = f"{public_url.rstrip('/')}/submissions/{submission.id}"
    queue_message(db, to=author.email, subject=f"Your answer was reviewed: {submission.question.title}"[:200], body=(
        f"Hello {author.display_name},\n\nAn interviewer has reviewed your answer to "
        f"\u201c{submission.question.title}\u201d. Read their comments and scorecard here:\n\n{link}\n\n"
        f"You can turn these emails off under your name \u2192 Email: {public_url.rstrip('/')}/account/email\n"))


def _parse_score(text: str, errors: dict[str, str]) -> int | None:
    if not text.strip():
        return None
    score = whole_number(text, low=0, high=100)
    if score is None:
        errors["final_score"] = "Give a whole number from 0 to 100, or leave it empty to keep the automatic score."
    return score


def _check_line(submission: Submission, line: int | None) -> None:
    lines = submission.code.count("\n") + 1 if submission.code else 0
    if line is not None and not 1 <= line <= lines:
        raise Invalid({"line": f"Choose a line between 1 and {lines}." if lines else
                                "This answer has no code lines to comment on."})


def add_comment(db: Session, *, submission: Submission, author: User, line: int | None, body: str) -> ReviewComment:
    if not body.strip():
        raise Invalid({"body": "Write a comment first."})
    _check_line(submission, line)
    _holding(db, submission=submission, reviewer=author)
    comment = ReviewComment(submission_id=submission.id, author_id=author.id, line=line, body=body.strip()[:5000])
    db.add(comment)
    db.flush()
    return comment


def check_comment_editable(db: Session, *, comment: ReviewComment) -> None:
    """A comment is part of the review once it is submitted (the candidate has read it): from then on
    it stays as it was, like the scorecard, rather than change under the candidate's eyes."""
    review = get_review(db, submission_id=comment.submission_id)
    if review is not None and review.state == ReviewState.submitted:
        raise Conflict({"body": "This review has been submitted, so its comments can no longer be changed."})


def edit_comment(db: Session, *, comment: ReviewComment, author: User, body: str) -> ReviewComment:
    if comment.author_id != author.id:
        raise Forbidden({"body": "Only the author can edit this comment."})
    check_comment_editable(db, comment=comment)
    if not body.strip():
        raise Invalid({"body": "A comment cannot be empty."})
    comment.body = body.strip()[:5000]
    return comment


def comments_for(db: Session, *, submission_id: int) -> list[ReviewComment]:
    return list(db.scalars(select(ReviewComment).where(ReviewComment.submission_id == submission_id)
                           .options(joinedload(ReviewComment.author))
                           .order_by(ReviewComment.line.is_(None), ReviewComment.line, ReviewComment.id)))


_ANY_UNSEEN = (select(Review.id).join(Submission, Submission.id == Review.submission_id)
               .where(Review.state == ReviewState.submitted, Review.seen_by_candidate_at.is_(None),
                      Submission.user_id == bindparam("user_id")).limit(1))


def unseen_reviews(db: Session, *, user: User) -> int:
    """Finished reviews of the user's answers they have not opened yet (the badge in the navigation)."""
    # Driven by the small partial index of unseen reviews, not by all of the user's answers.
    # Most pages have none: a statement built once answers that before the full count is built.
    if db.scalar(_ANY_UNSEEN, {"user_id": user.id}) is None:
        return 0
    # Reviews of answers whose feedback is withheld (a running assessment...) are not counted.
    return db.scalar(select(func.count()).select_from(Review).where(
        Review.state == ReviewState.submitted, Review.seen_by_candidate_at.is_(None),
        Review.submission_id.in_(select(Submission.id).where(
            Submission.user_id == user.id, author_sees(CandidateFeedback.full, now=utcnow()))))) or 0


def needs_seen_mark(*, review: Review | None, viewer: User, submission: Submission, now: datetime) -> bool:
    """The candidate is opening a finished review they had not seen (and may see: not a withheld one)."""
    return bool(review and review.state == ReviewState.submitted and viewer.id == submission.user_id
                and review.seen_by_candidate_at is None and shown_to(viewer, submission, now=now).full)


def mark_seen(database: Database, *, review_id: int) -> None:
    """Record that the candidate opened their review, in a short write transaction of its own
    (the page itself is read in a read transaction, which SQLite cannot safely upgrade)."""
    with session_scope(database.write_session) as db:
        db.execute(update(Review).where(Review.id == review_id, Review.seen_by_candidate_at.is_(None))
                   .values(seen_by_candidate_at=utcnow()).execution_options(synchronize_session=False))


def finished_review(db: Session, *, submission: Submission) -> dict[str, object]:
    """What the candidate sees once a review is submitted (nothing of a draft)."""
    review = get_review(db, submission_id=submission.id)
    if review is None or review.state != ReviewState.submitted:
        return {"review": None, "comments": [], "review_pending": review is not None}
    return {"review": review, "comments": comments_for(db, submission_id=submission.id), "review_pending": False}


def request_by_author(db: Session, *, submission: Submission, user: User) -> None:
    """The candidate asks an interviewer to look at one of their graded answers."""
    if submission.user_id != user.id:
        raise NotFound({"form": "There is no such submission."})
    if submission.attempt_id is not None:
        raise Conflict({"form": "Answers given in an assessment or a mock interview are not "
                                            "reviewed on request."})
    if submission.status != SubmissionStatus.graded:
        raise Conflict({"form": "You can ask for a review once your answer is graded."})
    request_review(db, submission=submission)


def overridden_scores(db: Session, *, submission_ids: Sequence[int]) -> dict[int, int]:
    """Submission id → the score an interviewer set in a submitted review (where they changed it)."""
    if not submission_ids:
        return {}
    rows = db.execute(select(Review.submission_id, Review.final_score).where(
        Review.submission_id.in_(submission_ids), Review.state == ReviewState.submitted,
        Review.final_score.is_not(None)))
    return {submission_id: score for submission_id, score in rows if score is not None}
