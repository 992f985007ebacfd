"""The question list's order and facets, built once per catalogue version and kept in memory.

Every request of ``/questions`` used to count, sort and list the whole bank. Now a request reads
one row (``catalogue_state``: the version the database bumps on every change the list depends on,
migration 0019) and then only the rows it shows. What needs the whole bank — the order of every
question matching a set of filters, the count per topic, the tag list, a search's best matches — is
computed once per version and filter set, in this process, and reused until the version changes.

A listing is kept per topic, each topic's ids in list order: the list is ordered by topic first,
so the whole list is the topics' lists one after another, a topic filter is one of them, and the
counts per topic are their lengths. 4 bytes per question and filter set (an ``array`` of ids);
at most ``MAX_ENTRIES`` filter sets are kept, least recently used first out.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from webapp.questions.models import CatalogueState, Question, QuestionTag, Topic
from webapp.questions.search import matching_questions, search_terms

MAX_ENTRIES = 32
SEARCH_LIMIT = 1000  # a search ranks at most this many matches; more means "add words"
DIFFICULTY_ORDER = case({"easy": 0, "medium": 1, "hard": 2}, value=Question.difficulty)

Value = TypeVar("Value")


@dataclass(frozen=True)
class CatalogueVersion:
    """Which state of which database a cached value belongs to."""

    database: str
    token: str
    version: int


@dataclass(frozen=True)
class TopicEntry:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Listing:
    """The questions matching one set of filters (all but topic and search), per topic in list order."""

    by_topic: dict[int, array[int]]

    @property
    def counts(self) -> dict[int, int]:
        return {topic_id: len(ids) for topic_id, ids in self.by_topic.items()}

    def ordered(self, topics: Sequence[TopicEntry], *, topic_id: int | None) -> Iterator[int]:
        """Ids in list order: one topic's, or every topic's one after another."""
        for topic in topics:
            if topic_id is None or topic.id == topic_id:
                yield from self.by_topic.get(topic.id, ())


@dataclass(frozen=True)
class SearchHits:
    ids: tuple[int, ...]  # best first, at most SEARCH_LIMIT
    more: bool  # the search matched more than it kept


class _Cache:
    """A small LRU shared by the process's request threads; one build at a time, so a burst of
    requests after a change builds each entry once and the rest wait for it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()
        self.build_lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Value]) -> Value:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]  # type: ignore[no-any-return]
        with self.build_lock:
            with self.lock:
                if key in self.entries:
                    return self.entries[key]  # type: ignore[no-any-return]
            value = build()
            with self.lock:
                self.entries[key] = value
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
            return value

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


_cache = _Cache(MAX_ENTRIES)


_VERSION = select(CatalogueState.token, CatalogueState.version).where(CatalogueState.id == 1)
_REMEMBERED = "catalogue_version"


def current_version(db: Session) -> CatalogueVersion | None:
    """The catalogue's version, read first in the request so what is built after it is at least
    as new; None if the row is missing (the caller then reads the database directly)."""
    transaction = db.get_transaction()  # read once per transaction: a page asks for it more than once
    remembered = db.info.get(_REMEMBERED)
    if remembered is not None and transaction is not None and remembered[0] is transaction:
        return remembered[1]  # type: ignore[no-any-return]
    row = db.execute(_VERSION).first()
    version = None if row is None else CatalogueVersion(database=repr(db.get_bind().engine.url), token=row[0],
                                                         version=row[1])
    db.info[_REMEMBERED] = (db.get_transaction(), version)
    return version


def topics(db: Session, version: CatalogueVersion) -> list[TopicEntry]:
    def build() -> list[TopicEntry]:
        rows = db.execute(select(Topic.id, Topic.slug, Topic.name).order_by(Topic.position, Topic.name)).all()
        return [TopicEntry(id=i, slug=slug, name=name) for i, slug, name in rows]
    return _cache.get((version, "topics"), build)


def tags(db: Session, version: CatalogueVersion, *, statuses: tuple[str, ...]) -> list[str]:
    def build() -> list[str]:
        return list(db.scalars(
            select(QuestionTag.tag).join(Question, Question.id == QuestionTag.question_id)
            .where(Question.status.in_(statuses)).distinct().order_by(QuestionTag.tag)
        ))
    return _cache.get((version, "tags", statuses), build)


def listing(db: Session, version: CatalogueVersion, *, key: Hashable,
            conditions: Sequence[ColumnElement[bool]]) -> Listing:
    """The ordered ids matching ``conditions`` (which ``key`` names), per topic: one query of two
    integer columns per version, ordered like the page (topic, difficulty, title; id breaks ties)."""
    def build() -> Listing:
        by_topic: dict[int, array[int]] = {}
        rows = db.execute(
            select(Question.id, Question.topic_id).join(Topic, Topic.id == Question.topic_id).where(*conditions)
            .order_by(Topic.position, Topic.name, DIFFICULTY_ORDER, Question.title, Question.id)
        )
        for question_id, topic_id in rows:
            by_topic.setdefault(topic_id, array("i")).append(question_id)
        return Listing(by_topic=by_topic)
    return _cache.get((version, "listing", key), build)


def search(db: Session, version: CatalogueVersion, *, query: str, statuses: tuple[str, ...]) -> SearchHits:
    """The best ``SEARCH_LIMIT`` matches of a search among questions in ``statuses`` (full-text
    index; ties by title), cached per version and words."""
    def build() -> SearchHits:
        ranked = matching_questions(db, query=query)
        if ranked is None:
            return SearchHits(ids=(), more=False)
        hits = ranked.subquery()
        ids: tuple[int, ...] = tuple(db.scalars(
            select(hits.c.question_id).join(Question, Question.id == hits.c.question_id)
            .where(Question.status.in_(statuses))
            .order_by(hits.c.rank, Question.title, Question.id).limit(SEARCH_LIMIT + 1)
        ))
        return SearchHits(ids=ids[:SEARCH_LIMIT], more=len(ids) > SEARCH_LIMIT)
    return _cache.get((version, "search", statuses, " ".join(search_terms(query))), build)


def page_of(ids: Iterator[int], *, skip: int, take: int, without: frozenset[int] = frozenset()) -> list[int]:
    """``take`` ids after the first ``skip``, leaving out ``without`` (a viewer's answered questions)."""
    kept: Iterator[int] = (i for i in ids if i not in without) if without else ids
    return list(islice(kept, skip, skip + take))


def clear() -> None:
    """Forget everything (tests that compare with the direct queries)."""
    _cache.clear()
