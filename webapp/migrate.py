"""Schema migrations through Alembic, configured from ``[tool.alembic]`` in pyproject.toml."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from webapp.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
