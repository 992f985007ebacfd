"""Similar code: what comparing one graded answer costs a grader, in an assessment of 200 candidates.

Run: ``.venv/bin/python -m bench.integrity`` (``make bench`` runs every benchmark); BENCH_QUICK=1
for a smoke run. One code question of the shipped bank, CANDIDATES answers to it in one assessment
(SQLite), queued for comparison as grading queues them; each is then compared by
``integrity.checks.check_next`` in this process, one after another as a grader would, each against
every answer before and after it. The answers are the question's known solutions (correct and wrong),
every other one disguised (names changed, reformatted, comments added): with a dozen solutions among
200 candidates, every answer has many close copies, so this is the expensive case where many pairs
pass the cheap screen and are compared exactly. Reference in the same run: fingerprinting one
answer alone (the least a check can do).
"""

from __future__ import annotations

import secrets
import statistics
import time
from itertools import cycle, islice

from sqlalchemy import func, select

from bench.common import knob, make_site, percentile
from bench.similarity_threshold import disguise
from webapp.assessments.models import Assessment, AssessmentAttempt, AssessmentQuestion
from webapp.core.db import Database, utcnow
from webapp.identity.models import Role, User
from webapp.integrity import checks, similarity
from webapp.integrity.models import CodeFingerprint, SimilarityMatch
from webapp.questions.bank import default_bank_dir, read_path
from webapp.questions.models import Question, QuestionKind
from webapp.submissions.models import Submission, SubmissionStatus

CANDIDATES = knob("BENCH_INTEGRITY_CANDIDATES", 200, quick=30)
SLUG = "pydantic-signup-validators"


def _answers() -> list[str]:
    spec = next(q for q in read_path(default_bank_dir()).questions if q.slug == SLUG)
    known = [s.code for s in spec.correct_solutions] + [s.code for s in spec.wrong_solutions]
    return [code if n % 2 == 0 else disguise(code) for n, code in enumerate(islice(cycle(known), CANDIDATES))]


def _seed(database: Database, answers: list[str]) -> None:
    with database.write_session() as db:
        question = db.scalars(select(Question).where(Question.slug == SLUG, Question.kind == QuestionKind.code)).one()
        owner = db.scalar(select(User.id).where(User.role == Role.admin).limit(1))
        assessment = Assessment(title="Bench screen", owner_id=owner, time_limit_minutes=60,
                                invite_code=secrets.token_urlsafe(9))
        assessment.items.append(AssessmentQuestion(question_id=question.id, position=1))
        db.add(assessment)
        db.flush()
        now = utcnow()
        for n, code in enumerate(answers):
            user = User(email=f"bench-{n}@example.com", display_name=f"Candidate {n}", password_hash="-")
            db.add(user)
            db.flush()
            attempt = AssessmentAttempt(assessment_id=assessment.id, candidate_id=user.id, started_at=now)
            db.add(attempt)
            db.flush()
            submission = Submission(user_id=user.id, question_id=question.id, revision_id=question.current_revision_id,
                                    kind=QuestionKind.code, attempt_id=attempt.id, code=code, code_size=len(code),
                                    status=SubmissionStatus.graded, score=50)
            db.add(submission)
            db.flush()
            db.add(CodeFingerprint(submission_id=submission.id, question_id=question.id, attempt_id=attempt.id,
                                   user_id=user.id))
        db.commit()


def measure() -> dict[str, float]:
    site = make_site()
    database = Database(site.database_url)
    answers = _answers()
    _seed(database, answers)
    similarity.fingerprint(code=answers[0])  # copydetect's first import (matplotlib) is not a check's cost
    alone = []
    for code in answers[:20]:
        started = time.perf_counter()
        similarity.fingerprint(code=code)
        alone.append((time.perf_counter() - started) * 1000)
    costs = []
    began = time.perf_counter()
    while True:
        started = time.perf_counter()
        if not checks.check_next(database):
            break
        costs.append((time.perf_counter() - started) * 1000)
    total = time.perf_counter() - began
    with database.read_session() as db:
        pairs = db.scalar(select(func.count()).select_from(SimilarityMatch)) or 0
    database.dispose()
    return {"checks": len(costs), "p50": statistics.median(costs), "p95": percentile(costs, 95), "max": max(costs),
            "total": total, "pairs": pairs, "alone": statistics.median(alone)}


def report() -> str:
    r = measure()
    possible = CANDIDATES * (CANDIDATES - 1) // 2
    return "\n".join([
        "## Similar code: cost per answer", "", __doc__.split("\n\n", 1)[1].strip(), "",
        "| candidates | checks | per answer p50 ms | p95 ms | max ms | all checks s | pairs listed | "
        "one fingerprint alone ms (reference) | p50 / reference |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {CANDIDATES} | {r['checks']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['max']:.0f} | {r['total']:.1f} | "
        f"{r['pairs']:.0f} of {possible} | {r['alone']:.1f} | {r['p50'] / r['alone']:.1f}× |", "",
        "Runs on the graders when no answer waits to be graded (never in a web request); a grader busy with "
        "this yields to the next answer after the current check.", ""])


if __name__ == "__main__":
    print(report())
