"""The assessment builder's question picker: what it searches by, the questions chosen so far as
the builder lists them, and its steps when the browser runs no JavaScript (add, remove, move).

The picker shows one page of the bank at a time (``questions.catalogue.browse_questions``), so the
builder costs the same whatever the bank's size; the chosen questions travel in the form itself
(``questions=<slug>`` repeated, ``position-<slug>`` beside each), read back here by slug."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.assessments.service import question_order
from webapp.core.inputs import Line, PageNumber
from webapp.core.listing import ListFilters
from webapp.questions.catalogue import QuestionFilters
from webapp.questions.models import Question, QuestionStatus

# More than an assessment may hold (service.MAX_QUESTIONS), so too many chosen can be seen and
# removed; a form listing more than this was not made by the builder, and the rest is dropped.
MAX_LISTED = 100


class PickerFilters(ListFilters):
    """What the picker searches by. Only these: the builder offers published questions whatever
    else a query string says (``QuestionFilters.status`` would reach drafts)."""

    q: Line = ""
    topic: Line = ""
    difficulty: Line = ""
    kind: Line = ""
    page: PageNumber = 1

    def for_catalogue(self) -> QuestionFilters:
        return QuestionFilters(q=self.q, topic=self.topic, difficulty=self.difficulty, kind=self.kind,
                               page=self.page)


@dataclass(frozen=True)
class ChosenQuestion:
    """A chosen question as the builder lists it: its position as typed (or numbered), and the
    question when the slug names a published one (else the builder shows the slug alone)."""

    slug: str
    position: str
    question: Question | None

    @property
    def title(self) -> str:
        return self.question.title if self.question else self.slug


def listed_slugs(slugs: Sequence[str]) -> list[str]:
    """The chosen slugs in the order listed, each once, at most ``MAX_LISTED``."""
    return [slug for slug in dict.fromkeys(s.strip() for s in slugs) if slug][:MAX_LISTED]


def chosen_questions(db: Session, *, slugs: Sequence[str], positions: Mapping[str, str]) -> list[ChosenQuestion]:
    """The chosen questions in the order listed, with their positions as typed: one query by slug,
    as many rows as were chosen."""
    listed = listed_slugs(slugs)
    found = {q.slug: q for q in db.scalars(select(Question).where(
        Question.slug.in_(listed), Question.status == QuestionStatus.published))} if listed else {}
    return [ChosenQuestion(slug=slug, position=positions.get(slug, "").strip()[:20], question=found.get(slug))
            for slug in listed]


@dataclass(frozen=True)
class PickerStep:
    """The chosen list after a step, in order, with a position for each; ``errors`` are the typed
    positions that could not order it (then the list stays as listed, with what was typed)."""

    slugs: list[str]
    positions: dict[str, str]
    errors: dict[str, str]


def picker_step(*, slugs: Sequence[str], positions: Mapping[str, str], add: str = "", remove: str = "",
                up: str = "", down: str = "") -> PickerStep:
    """One step of the builder without JavaScript: the list is first put in the order the typed
    positions give (as creating the assessment would), then ``add`` goes last, ``remove`` goes, and
    ``up`` or ``down`` swaps places with its neighbour; the positions are numbered afresh, unless
    one that is still listed is not a whole number (then it is kept, with its error)."""
    listed = listed_slugs(slugs)
    ordered, errors = question_order(listed, positions)
    if errors:  # keep the list as it was and what was typed, so the errors can be corrected
        ordered = listed
    if add and add not in ordered and len(ordered) < MAX_LISTED:
        ordered.append(add)
    if remove in ordered:
        ordered.remove(remove)
    for slug, step in ((up, -1), (down, 1)):
        if slug in ordered and 0 <= (there := ordered.index(slug) + step) < len(ordered):
            here = there - step
            ordered[here], ordered[there] = ordered[there], ordered[here]
    errors = {field: error for field, error in errors.items() if field.removeprefix("position-") in ordered}
    if errors:
        return PickerStep(slugs=ordered, positions={s: positions.get(s, "") for s in ordered}, errors=errors)
    return PickerStep(slugs=ordered, positions={s: str(n) for n, s in enumerate(ordered, 1)}, errors={})
