"""Browsing the bank: filters, full-text search, counts per topic and pagination."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from webapp.core.inputs import Line, PageNumber
from webapp.core.listing import ListFilters
from webapp.questions import catalogue_index
from webapp.questions.models import Difficulty, Question, QuestionKind, QuestionStatus, QuestionTag, Topic
from webapp.questions.search import matching_questions, search_terms

PER_PAGE = 20


class QuestionFilters(ListFilters):
    """What the question list is filtered by (also the query string of /questions)."""

    quiet_defaults = ("page",)

    q: Line = ""
    topic: Line = ""
    difficulty: Line = ""
    kind: Line = ""
    tag: Line = ""
    status: Line = ""  # admins only; candidates always see published questions
    mine: Line = ""  # the viewer's standing: new, attempted or solved (practice/standing.py)
    page: PageNumber = 1

    def cleaned(self) -> QuestionFilters:
        """Unknown values are ignored rather than refused, so a stale link still shows something."""
        return self.model_copy(update={
            "q": self.q.strip()[:200], "tag": self.tag.strip().lower()[:40],
            "difficulty": self.difficulty if self.difficulty in Difficulty.__members__ else "",
            "kind": self.kind if self.kind in QuestionKind.__members__ else "",
            "status": self.status if self.status in QuestionStatus.__members__ else "",
        })


@dataclass
class TopicCount:
    slug: str
    name: str
    count: int


@dataclass(frozen=True)
class TopicName:
    name: str


@dataclass(frozen=True)
class ListedQuestion:
    """A question as the lists show it: read as plain rows (no ORM objects to build per page)."""

    id: int
    slug: str
    title: str
    difficulty: Difficulty
    kind: QuestionKind
    status: QuestionStatus
    updated_at: datetime
    topic: TopicName
    tag_names: list[str]


# Built once: building a statement costs more than running it on a page of 20.
_TAGS_OF = (select(QuestionTag.question_id, QuestionTag.tag)
            .where(QuestionTag.question_id.in_(bindparam("ids", expanding=True))).order_by(QuestionTag.tag))
_LISTED = (select(Question.id, Question.slug, Question.title, Question.difficulty, Question.kind, Question.status,
                  Question.updated_at, Topic.name).join(Topic, Topic.id == Question.topic_id)
           .where(Question.id.in_(bindparam("ids", expanding=True))))


def listed_questions(db: Session, *, ids: Sequence[int]) -> list[ListedQuestion]:
    """These questions, in this order, with topic name and tags: two queries by primary key."""
    if not ids:
        return []
    tags: dict[int, list[str]] = {}
    for question_id, tag in db.execute(_TAGS_OF, {"ids": list(ids)}):
        tags.setdefault(question_id, []).append(tag)
    rows = db.execute(_LISTED, {"ids": list(ids)})
    found = {row[0]: ListedQuestion(*row[:7], topic=TopicName(row[7]), tag_names=tags.get(row[0], []))
             for row in rows}
    return [found[i] for i in ids if i in found]


@dataclass
class QuestionPage:
    filters: QuestionFilters
    items: Sequence[ListedQuestion]
    total: int
    topic_counts: list[TopicCount] = field(default_factory=list)
    more: bool = False  # a search matched more than the SEARCH_LIMIT it ranks: total is a lower bound

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PER_PAGE))

    @property
    def previous_page(self) -> int | None:
        return self.filters.page - 1 if self.filters.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.filters.page + 1 if self.filters.page < self.pages else None


def _conditions(
    filters: QuestionFilters, *, statuses: Sequence[QuestionStatus], with_topic: bool = True
) -> list[ColumnElement[bool]]:
    """The WHERE clause of the filters, applied to questions directly (an ``id IN (subquery)``
    made SQLite read every published row twice)."""
    conditions: list[ColumnElement[bool]] = [Question.status.in_(_wanted(filters, statuses))]
    if filters.topic and with_topic:
        conditions.append(Question.topic.has(Topic.slug == filters.topic))
    if filters.difficulty:
        conditions.append(Question.difficulty == Difficulty(filters.difficulty))
    if filters.kind:
        conditions.append(Question.kind == QuestionKind(filters.kind))
    if filters.tag:
        conditions.append(Question.id.in_(select(QuestionTag.question_id).where(QuestionTag.tag == filters.tag)))
    return conditions


def browse_questions(
    db: Session, *, filters: QuestionFilters, statuses: Sequence[QuestionStatus] = (QuestionStatus.published,),
    per_page: int = PER_PAGE, only: Collection[int] | None = None, without: Collection[int] = (),
) -> QuestionPage:
    """One page of questions matching the filters, best match first when searching; ``only`` and
    ``without`` narrow it to (or away from) given question ids (a viewer's standing).

    The order and the facets come from the per-version cache (``catalogue_index``), so a request
    reads the version and the rows it shows whatever the bank's size. ``only`` (a viewer's answered
    questions: as many as their history) is read directly, as is a database without the version row.
    """
    filters = filters.cleaned()
    version = catalogue_index.current_version(db) if only is None else None
    if version is None:
        return _browse_directly(db, filters=filters, statuses=statuses, per_page=per_page, only=only,
                                without=without)
    topics = catalogue_index.topics(db, version)
    topic_id = next((t.id for t in topics if t.slug == filters.topic), None)
    conditions = _conditions(filters, statuses=statuses, with_topic=False)
    skip, mine = (filters.page - 1) * per_page, frozenset(without)
    unknown_topic = bool(filters.topic) and topic_id is None  # lists nothing, like the direct query
    if search_terms(filters.q):
        wanted = tuple(sorted(_wanted(filters, statuses)))
        hits = catalogue_index.search(db, version, query=filters.q, statuses=wanted)
        rank = {question_id: position for position, question_id in enumerate(hits.ids)}
        found = sorted(db.execute(select(Question.id, Question.topic_id).where(
            Question.id.in_(hits.ids), *conditions, *_narrowed(None, mine))).all(), key=lambda r: rank[r[0]])
        counts = dict(Counter(topic for _, topic in found))
        matching = [question_id for question_id, topic in found
                    if not unknown_topic and (topic_id is None or topic == topic_id)]
        page_ids, more = matching[skip:skip + per_page], hits.more
    else:
        key = (tuple(sorted(_wanted(filters, statuses))), filters.difficulty, filters.kind, filters.tag)
        listing = catalogue_index.listing(db, version, key=key, conditions=conditions)
        counts = _without_mine(db, listing.counts, conditions=conditions, mine=mine)
        page_ids = [] if unknown_topic else catalogue_index.page_of(
            listing.ordered(topics, topic_id=topic_id), skip=skip, take=per_page, without=mine)
        more = False
    if filters.topic:
        total = counts.get(topic_id, 0) if topic_id is not None else 0
    else:
        total = sum(counts.values())
    return QuestionPage(filters=filters, items=listed_questions(db, ids=page_ids), total=total, more=more,
                        topic_counts=[TopicCount(slug=t.slug, name=t.name, count=counts.get(t.id, 0)) for t in topics])


def _without_mine(db: Session, counts: dict[int, int], *, conditions: Sequence[ColumnElement[bool]],
                  mine: frozenset[int]) -> dict[int, int]:
    """Counts per topic less the viewer's answered questions among them (a query over those only)."""
    if not mine:
        return counts
    answered = dict(db.execute(select(Question.topic_id, func.count()).where(
        Question.id.in_(list(mine)), *conditions).group_by(Question.topic_id)).all())
    return {topic: count - answered.get(topic, 0) for topic, count in counts.items()}


def _browse_directly(
    db: Session, *, filters: QuestionFilters, statuses: Sequence[QuestionStatus], per_page: int,
    only: Collection[int] | None, without: Collection[int],
) -> QuestionPage:
    """The same page from SQL alone: for ``only`` (bounded by the viewer's history), and the
    reference the cached path is tested against."""
    narrowed = _narrowed(only, without)
    statement = select(Question.id).where(*_conditions(filters, statuses=statuses), *narrowed)
    ranked = matching_questions(db, query=filters.q) if filters.q else None
    if ranked is not None:
        hits = ranked.subquery()
        statement = statement.join(hits, hits.c.question_id == Question.id).order_by(
            hits.c.rank, Question.title, Question.id)
    else:
        statement = statement.join(Topic, Topic.id == Question.topic_id).order_by(
            Topic.position, Topic.name, catalogue_index.DIFFICULTY_ORDER, Question.title, Question.id)
    topic_counts, total = _topic_counts(db, filters, statuses, ranked, narrowed)
    ids = db.scalars(statement.limit(per_page).offset((filters.page - 1) * per_page)).all()
    return QuestionPage(filters=filters, items=listed_questions(db, ids=ids), total=total, topic_counts=topic_counts)


def _wanted(filters: QuestionFilters, statuses: Sequence[QuestionStatus]) -> list[QuestionStatus]:
    return [QuestionStatus(filters.status)] if filters.status else list(statuses)


def _narrowed(only: Collection[int] | None, without: Collection[int]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [] if only is None else [Question.id.in_(list(only))]
    if without:
        conditions.append(Question.id.not_in(list(without)))
    return conditions


def _topic_counts(db: Session, filters: QuestionFilters, statuses: Sequence[QuestionStatus],
                  ranked: Select[Any, Any] | None,
                  narrowed: list[ColumnElement[bool]]) -> tuple[list[TopicCount], int]:
    """Per topic, how many questions match every filter but the topic itself; and the total.

    The total needs no query of its own: it is the count of the chosen topic, or the sum of all.
    """
    conditions = _conditions(filters, statuses=statuses, with_topic=False) + narrowed
    if ranked is not None:
        conditions.append(Question.id.in_(select(ranked.subquery().c.question_id)))
    counts = dict(db.execute(
        select(Question.topic_id, func.count()).where(*conditions).group_by(Question.topic_id)
    ).all())
    topics = db.execute(select(Topic.id, Topic.slug, Topic.name).order_by(Topic.position, Topic.name)).all()
    if filters.topic:
        total = sum(counts.get(topic_id, 0) for topic_id, slug, _ in topics if slug == filters.topic)
    else:
        total = sum(counts.values())
    return [TopicCount(slug=slug, name=name, count=counts.get(topic_id, 0)) for topic_id, slug, name in topics], total


def all_tags(db: Session, *, statuses: Sequence[QuestionStatus] = (QuestionStatus.published,)) -> list[str]:
    """Every tag of a question in these statuses, sorted (cached per catalogue version)."""
    version = catalogue_index.current_version(db)
    if version is not None:
        return catalogue_index.tags(db, version, statuses=tuple(sorted(statuses)))
    return list(db.scalars(
        select(QuestionTag.tag).join(Question, Question.id == QuestionTag.question_id)
        .where(Question.status.in_(statuses)).distinct().order_by(QuestionTag.tag)
    ))


_BY_SLUG = select(Question).where(Question.slug == bindparam("slug")).options(joinedload(Question.current_revision))


def get_visible_question(db: Session, *, slug: str, viewer_is_admin: bool) -> Question | None:
    """A question by slug if this viewer may see it: published for everyone, any status for admins.
    One statement (with its revision), built once: building it per request cost more than running it."""
    question = db.scalar(_BY_SLUG, {"slug": slug})
    if question is None or (question.status != QuestionStatus.published and not viewer_is_admin):
        return None
    return question
