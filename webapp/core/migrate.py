"""Schema migrations through Alembic, configured from ``[tool.alembic]`` in pyproject.toml."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from webapp.core.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate ignores the search structures the migrations make by hand (FTS5, a GIN index)."""
    return not (name or "").startswith(("question_fts", "ix_questions_fts"))
