"""An assessment's results as CSV: one row per invited candidate and question, for a spreadsheet.

Cells a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first) are prefixed with
an apostrophe, so a candidate's display name or a question title cannot carry one (OWASP's CSV
injection advice)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy.orm import Session

from webapp.assessments.models import Assessment
from webapp.submissions.attempts import report_rows

HEADER = ("candidate_email", "candidate_name", "status", "started_at", "submitted_at", "seconds_used",
          "position", "question", "answers", "score", "grading")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def assessment_csv(db: Session, *, assessment: Assessment, now: datetime) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for attempt in assessment.attempts:
        person = (attempt.candidate.email, attempt.candidate.display_name, attempt.status(now),
                  _moment(attempt.started_at), _moment(attempt.submitted_at), attempt.seconds_used(now))
        for row in report_rows(db, attempt=attempt):
            last = row.submission
            writer.writerow([spreadsheet_safe(value) for value in (
                *person, row.position, row.question.title, len(row.answers),
                last.score if last and last.score is not None else "", last.status.value if last else "not answered")])
    return out.getvalue()


def _moment(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def spreadsheet_safe(value: object) -> object:
    """A cell as written: text a spreadsheet would read as a formula gets a leading apostrophe."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value
