"""Full-text search over question titles and prompts: SQLite FTS5 or PostgreSQL tsvector.

Both are maintained by the database itself (FTS5 triggers, a GIN expression index), created
in the migrations; ``matching_questions`` hides the difference.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnClause, Select, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

# The indexed expression on PostgreSQL; the query must repeat it exactly to use the index.
PG_DOCUMENT = (
    "(setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', search_text), 'B'))"
)
SQLITE_FTS_TABLE = "question_fts"
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12


def search_terms(query: str) -> list[str]:
    """The words of a user's query; every operator character is dropped, so nothing is injected."""
    return [w.lower() for w in _WORD.findall(query)][:MAX_TERMS]


def matching_questions(db: Session, *, query: str) -> Select[Any, Any] | None:
    """A select of (question_id, rank) for the query, best first; None when it has no words.

    Every word must match; the last one also matches as a prefix, for search-as-you-type.
    """
    terms = search_terms(query)
    if not terms:
        return None
    if db.get_bind().dialect.name == "sqlite":
        return _sqlite(terms)
    return _postgres(terms)


def _sqlite(terms: list[str]) -> Select[Any, Any]:
    match = " ".join(f'"{t}"' for t in terms[:-1]) + f' "{terms[-1]}"*'
    fts = table(SQLITE_FTS_TABLE, column("rowid"))
    return (
        select(literal_column("question_fts.rowid").label("question_id"),
               literal_column("bm25(question_fts, 10.0, 1.0)").label("rank"))
        .select_from(fts)
        .where(text("question_fts MATCH :match").bindparams(match=match.strip()))
    )


def _postgres(terms: list[str]) -> Select[Any, Any]:
    query = func.to_tsquery(literal_column("'english'"), " & ".join(terms[:-1] + [f"{terms[-1]}:*"]))
    document: ColumnClause[str] = literal_column(PG_DOCUMENT)
    return (
        select(literal_column("questions.id").label("question_id"), (-func.ts_rank(document, query)).label("rank"))
        .select_from(table("questions"))
        .where(document.op("@@")(query))
    )
