"""What an interviewer is shown of the integrity signals: beside each answer, the answers it
closely matches, and the side-by-side comparison with the matching parts marked. Another
interviewer's candidate stays anonymous (and their code hidden) unless the viewer is an admin;
every view of a similarity result is audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from webapp.assessments.models import Assessment, AssessmentAttempt
from webapp.audit.service import record_view
from webapp.identity.models import Role, User
from webapp.integrity.models import CodeFingerprint, SimilarityMatch
from webapp.integrity.normalise import code_in_strings
from webapp.integrity.similarity import MAX_CODE_BYTES, THRESHOLD
from webapp.integrity.timeline import AttemptSignals, attempt_signals
from webapp.submissions.models import Submission


@dataclass(frozen=True)
class SimilarAnswer:
    match_id: int
    share: float  # of this answer's fingerprinted code, the part found in the other
    other_share: float
    other_submission_id: int
    same_assessment: bool
    other_candidate: str | None  # None: another interviewer's candidate, not shown
    other_assessment: str | None
    other_attempt_id: int


@dataclass(frozen=True)
class Side:
    label: str
    share: float
    pieces: list[tuple[str, bool]]  # the code in order, each piece marked when it matches


@dataclass(frozen=True)
class ReportEvidence:
    similar: dict[int, list[SimilarAnswer]]  # by submission id
    compared: set[int]  # the answers whose comparison has run (others: still waiting for a grader)
    signals: AttemptSignals
    in_strings: dict[int, int]  # by submission id: characters of code inside string literals (not compared)
    threshold: float = THRESHOLD
    max_code_bytes: int = MAX_CODE_BYTES  # larger answers are not compared: the report says so


@dataclass(frozen=True)
class Comparison:
    match_id: int
    mine: Side
    other: Side | None  # None: the viewer may not see the other answer's code
    other_label: str
    threshold: float = THRESHOLD


def _may_see(viewer: User, assessment: Assessment) -> bool:
    return viewer.role == Role.admin or assessment.owner_id == viewer.id


def _matches(db: Session, submission_ids: Sequence[int]) -> list[SimilarityMatch]:
    if not submission_ids:
        return []
    return list(db.scalars(select(SimilarityMatch)
                           .where(or_(SimilarityMatch.first_id.in_(submission_ids),
                                      SimilarityMatch.second_id.in_(submission_ids)))
                           .options(joinedload(SimilarityMatch.first).joinedload(Submission.attempt)
                                    .joinedload(AssessmentAttempt.assessment),
                                    joinedload(SimilarityMatch.second).joinedload(Submission.attempt)
                                    .joinedload(AssessmentAttempt.assessment))))


def _oriented(match: SimilarityMatch, submission_id: int) -> tuple[Submission, Submission, float, float,
                                                                   list[list[int]], list[list[int]]]:
    if match.first_id == submission_id:
        return (match.first, match.second, match.first_share, match.second_share, match.first_regions,
                match.second_regions)
    return match.second, match.first, match.second_share, match.first_share, match.second_regions, match.first_regions


def similar_answers(db: Session, *, attempt: AssessmentAttempt, submission_ids: Sequence[int],
                    viewer: User) -> dict[int, list[SimilarAnswer]]:
    """For each of ``submission_ids`` (answers of ``attempt``), the answers found alike, closest
    first. Audited when there is any to show."""
    found: dict[int, list[SimilarAnswer]] = {}
    for match in _matches(db, submission_ids):
        for submission_id in {match.first_id, match.second_id} & set(submission_ids):
            _, other, share, other_share, _, _ = _oriented(match, submission_id)
            if other.attempt is None:
                continue
            visible = _may_see(viewer, other.attempt.assessment)
            found.setdefault(submission_id, []).append(SimilarAnswer(
                match.id, share, other_share, other.id, other.attempt.assessment_id == attempt.assessment_id,
                other.attempt.candidate.display_name if visible else None,
                other.attempt.assessment.title if visible else None, other.attempt.id))
    for submission_id, answers in found.items():
        # Another candidate who sent several answers is listed once, by their closest one.
        answers.sort(key=lambda answer: -max(answer.share, answer.other_share))
        closest: dict[int, SimilarAnswer] = {}
        for answer in answers:
            closest.setdefault(answer.other_attempt_id, answer)
        found[submission_id] = list(closest.values())
    if found:
        record_view(db, actor=viewer, action="integrity.similarity_viewed", target=f"attempt:{attempt.id}",
                     summary=f"viewed {sum(map(len, found.values()))} similarity result(s) on a report",
                     details={"matches": sorted({a.match_id for answers in found.values() for a in answers})})
    return found


def _pieces(code: str, regions: list[list[int]]) -> list[tuple[str, bool]]:
    pieces, at = [], 0
    for start, end in sorted((max(0, s), min(len(code), e)) for s, e in regions):
        if start < at:
            start = at
        if start >= end:
            continue
        if start > at:
            pieces.append((code[at:start], False))
        pieces.append((code[start:end], True))
        at = end
    if at < len(code):
        pieces.append((code[at:], False))
    return pieces


def comparison(db: Session, *, match_id: int, attempt: AssessmentAttempt, viewer: User) -> Comparison | None:
    """One of ``attempt``'s answers and the answer it matches, side by side with the matching
    parts marked (None: no such match for this attempt). The viewer has been allowed the
    attempt's assessment; the other side's code shows only to whom may see its assessment.
    Audited."""
    match = db.get(SimilarityMatch, match_id)
    if match is None:
        return None
    submission = next((s for s in (match.first, match.second) if s.attempt_id == attempt.id), None)
    if submission is None:
        return None
    mine, other, share, other_share, my_regions, other_regions = _oriented(match, submission.id)
    visible = other.attempt is not None and _may_see(viewer, other.attempt.assessment)
    if other.attempt is None:
        other_label = "an answer no longer in an assessment"
    elif visible:
        other_label = f"{other.attempt.candidate.display_name} in {other.attempt.assessment.title}"
    else:
        other_label = "a candidate in another interviewer's assessment"
    record_view(db, actor=viewer, action="integrity.comparison_viewed", target=f"submission:{submission.id}",
                 summary=f"compared answer {submission.id} with answer {other.id}",
                 details={"match": match.id, "other_submission": other.id, "other_code_shown": visible})
    mine_label = mine.attempt.candidate.display_name if mine.attempt is not None else "this answer"
    return Comparison(match.id, Side(mine_label, share, _pieces(mine.code, my_regions)),
                      Side(other_label, other_share, _pieces(other.code, other_regions)) if visible else None,
                      other_label)


def report_evidence(db: Session, *, attempt: AssessmentAttempt, submission_ids: Sequence[int],
                    viewer: User) -> ReportEvidence:
    """Everything the report shows beside the scores: similar answers, which answers have been
    compared, and the session signals."""
    compared = set(db.scalars(select(CodeFingerprint.submission_id)
                              .where(CodeFingerprint.submission_id.in_(submission_ids),
                                     CodeFingerprint.checked_at.is_not(None)))) if submission_ids else set()
    codes = db.execute(select(Submission.id, Submission.code, Submission.code_size)
                       .where(Submission.id.in_(submission_ids))).all() if submission_ids else []
    in_strings = {row.id: hidden for row in codes if (hidden := _hidden_in_strings(row.code, row.code_size))}
    return ReportEvidence(similar_answers(db, attempt=attempt, submission_ids=submission_ids, viewer=viewer),
                          compared, attempt_signals(db, attempt=attempt), in_strings)


def similar_for_review(db: Session, *, submission: Submission, viewer: User) -> list[SimilarAnswer] | None:
    """The similar answers shown on an answer's review page: None unless it belongs to an
    assessment the viewer may see (its interviewer, or an admin)."""
    attempt = submission.attempt
    if attempt is None or attempt.assessment.kind != "assessment" or not _may_see(viewer, attempt.assessment):
        return None
    return similar_answers(db, attempt=attempt, submission_ids=[submission.id], viewer=viewer).get(submission.id, [])


def code_hidden_in_strings(*, submission: Submission) -> int:
    """Characters of a code answer written inside strings, which the comparison cannot see (the
    review page says so beside its similar answers)."""
    return _hidden_in_strings(submission.code, submission.code_size) if submission.kind.value == "code" else 0


def _hidden_in_strings(code: str | None, size: int) -> int:
    return code_in_strings(code) if code and size <= MAX_CODE_BYTES else 0  # larger ones are not compared
