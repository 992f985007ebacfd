"""The question list's per-version cache: the same pages as the direct queries, invalidated by the
database itself on any change, and a warm request whose queries do not depend on the bank's size."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import create_engine, event, select, text

from webapp.core.db import session_scope
from webapp.questions import catalogue_index
from webapp.questions.catalogue import QuestionFilters, _browse_directly, all_tags, browse_questions
from webapp.questions.curation import get_question
from webapp.questions.editing import set_status
from webapp.questions.models import CatalogueState, Question, QuestionStatus, QuestionTag, Topic

ALL_STATUSES = tuple(QuestionStatus)


@pytest.fixture(autouse=True)
def _fresh_cache():
    catalogue_index.clear()
    yield
    catalogue_index.clear()


def _page(db, filters, **kwargs):
    page = browse_questions(db, filters=filters, **kwargs)
    return [q.slug for q in page.items], page.total, [(t.slug, t.count) for t in page.topic_counts]


def _direct(db, filters, statuses=(QuestionStatus.published,), per_page=20, without=()):
    page = _browse_directly(db, filters=filters.cleaned(), statuses=statuses, per_page=per_page, only=None,
                            without=without)
    return [q.slug for q in page.items], page.total, [(t.slug, t.count) for t in page.topic_counts]


def test_every_filter_combination_gives_the_pages_of_the_direct_queries(app, shipped_bank):
    with session_scope(app.state.db.write_session) as db:  # some variety of statuses for the admin view
        for spec in shipped_bank.questions[::9]:
            set_status(db, question=get_question(db, slug=spec.slug), status=QuestionStatus.archived, actor=None)
    spec = shipped_bank.questions[3]
    combos = itertools.product(["", spec.topic, "no-such-topic"], ["", "hard"], ["", "code"],
                               ["", spec.tags[0]], ["", "dependency", "depends injection"], [1, 2])
    with app.state.db.read_session() as db:
        answered = [q.id for q in db.scalars(select(Question).order_by(Question.id).limit(40))][::3]
        checked = 0
        for topic, difficulty, kind, tag, q, page in combos:
            filters = QuestionFilters(topic=topic, difficulty=difficulty, kind=kind, tag=tag, q=q, page=page)
            assert _page(db, filters) == _direct(db, filters), filters
            assert _page(db, filters, without=answered) == _direct(db, filters, without=answered), filters
            assert (_page(db, filters, statuses=ALL_STATUSES, per_page=7)
                    == _direct(db, filters, statuses=ALL_STATUSES, per_page=7)), filters
            checked += 1
        archived = QuestionFilters(status="archived")
        assert _page(db, archived, statuses=ALL_STATUSES) == _direct(db, archived, statuses=ALL_STATUSES)
        assert _page(db, archived, statuses=ALL_STATUSES)[1] == len(shipped_bank.questions[::9])
    assert checked == 3 * 2 * 2 * 2 * 3 * 2


def _slugs_listed(app, **filters):
    with app.state.db.read_session() as db:
        return [q.slug for q in browse_questions(db, filters=QuestionFilters(**filters), per_page=1000).items]


def test_a_publish_an_archive_and_a_tag_show_at_once(app, bank):
    spec = bank.questions[0]
    assert spec.slug in _slugs_listed(app)
    with session_scope(app.state.db.write_session) as db:
        set_status(db, question=get_question(db, slug=spec.slug), status=QuestionStatus.archived, actor=None)
    assert spec.slug not in _slugs_listed(app)
    with session_scope(app.state.db.write_session) as db:
        question = get_question(db, slug=spec.slug)
        set_status(db, question=question, status=QuestionStatus.published, actor=None)
        question.tags.append(QuestionTag(tag="freshly-tagged"))
    assert _slugs_listed(app, tag="freshly-tagged") == [spec.slug]
    with app.state.db.read_session() as db:
        assert "freshly-tagged" in all_tags(db)


def test_a_change_made_in_sql_by_another_process_is_seen(app, bank):
    """Triggers bump the version, so a write that never went through this code is still seen."""
    spec = bank.questions[0]
    with app.state.db.read_session() as db:
        before = catalogue_index.current_version(db)
        first_topic = browse_questions(db, filters=QuestionFilters()).topic_counts[0]
    other = create_engine(app.state.db.engine.url)  # another process's connection to the same database
    with other.connect() as connection:
        connection.exec_driver_sql("UPDATE questions SET title = 'Zzz renamed by hand' WHERE slug = ?"
                                   if app.state.db.is_sqlite else
                                   "UPDATE questions SET title = 'Zzz renamed by hand' WHERE slug = %s", (spec.slug,))
        connection.exec_driver_sql(f"UPDATE topics SET name = 'Renamed topic' WHERE slug = '{first_topic.slug}'")
        connection.commit()
    other.dispose()
    with app.state.db.read_session() as db:
        after = catalogue_index.current_version(db)
        page = browse_questions(db, filters=QuestionFilters(q="renamed"))
        topics = browse_questions(db, filters=QuestionFilters()).topic_counts
    assert before is not None and after is not None and after.version >= before.version + 2
    assert [q.slug for q in page.items] == [spec.slug]
    assert topics[0].name == "Renamed topic"


def test_saving_what_the_list_does_not_read_keeps_the_cache(app, bank):
    with app.state.db.read_session() as db:
        before = catalogue_index.current_version(db)
    with session_scope(app.state.db.write_session) as db:
        db.execute(text("UPDATE questions SET updated_at = created_at"))
    with app.state.db.read_session() as db:
        assert catalogue_index.current_version(db) == before


def test_an_emptied_state_table_starts_again_with_a_new_token(app, bank):
    with app.state.db.read_session() as db:
        before = catalogue_index.current_version(db)
    with session_scope(app.state.db.write_session) as db:
        db.execute(CatalogueState.__table__.delete())
    with app.state.db.read_session() as db:  # no row: read directly, still right
        assert catalogue_index.current_version(db) is None
        assert browse_questions(db, filters=QuestionFilters()).total == len(bank.questions)
    with session_scope(app.state.db.write_session) as db:
        db.add(Topic(slug="new-topic", name="New topic", position=99))
    with app.state.db.read_session() as db:
        after = catalogue_index.current_version(db)
    assert before is not None and after is not None and after.token != before.token


def test_a_search_ranks_at_most_its_limit_and_says_there_is_more(app, shipped_bank, monkeypatch):
    monkeypatch.setattr(catalogue_index, "SEARCH_LIMIT", 5)
    with app.state.db.read_session() as db:
        page = browse_questions(db, filters=QuestionFilters(q="fastapi"))
    assert page.more and page.total == 5 and len(page.items) == 5


def _statements_of(app, filters, **kwargs):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.state.db.read_session() as db:
        browse_questions(db, filters=filters, **kwargs)  # warm
    with app.state.db.read_session() as db:
        event.listen(app.state.db.engine, "before_cursor_execute", record)
        try:
            page = browse_questions(db, filters=filters, **kwargs)
        finally:
            event.remove(app.state.db.engine, "before_cursor_execute", record)
    return [s for s in statements if not s.startswith("BEGIN")], page


@pytest.mark.parametrize("filters", [QuestionFilters(), QuestionFilters(page=3), QuestionFilters(kind="code")])
def test_a_warm_page_reads_the_version_and_the_rows_it_shows(app, shipped_bank, filters):
    statements, page = _statements_of(app, filters)
    assert len(statements) <= 3, statements  # the version, the shown questions' tags, the questions
    assert "catalogue_state" in statements[0]
    assert not any("GROUP BY" in s for s in statements)
    assert all(" IN (" in s for s in statements[1:]), statements  # by primary key, the shown ones only
    assert 0 < len(page.items) <= 20
