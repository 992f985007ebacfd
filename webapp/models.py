"""Imports every model module so Base.metadata knows all tables (Alembic, tests)."""

from webapp.assessments.models import Assessment, AssessmentAttempt, AssessmentQuestion  # noqa: F401
from webapp.audit.models import AuditEvent  # noqa: F401
from webapp.grading.models import ExampleRun, GraderWorker  # noqa: F401
from webapp.identity.models import AuthSession, LoginFailure, User  # noqa: F401
from webapp.integrity.models import CodeFingerprint, SessionSignal, SimilarityMatch  # noqa: F401
from webapp.interviews.models import (  # noqa: F401
    Interview,
    InterviewEvent,
    InterviewNote,
    InterviewQuestion,
    InterviewRun,
    InterviewUpdate,
)
from webapp.mail.models import OutboxMessage  # noqa: F401
from webapp.practice.models import PracticeCard, PracticeSettings  # noqa: F401
from webapp.questions.models import BankImport, Question, QuestionRevision, QuestionTag, Topic  # noqa: F401
from webapp.review.models import Review, ReviewComment  # noqa: F401
from webapp.submissions.models import Submission  # noqa: F401
