"""The migrations are the only way the schema is built: they must agree with the models."""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade

from matchmaker import MIGRATIONS_DIR
from matchmaker.db import include_object
from matchmaker.extensions import db


def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


def test_there_is_one_head() -> None:
    assert len(_script().get_heads()) == 1


def test_revision_files_are_date_prefixed() -> None:
    for revision in _script().walk_revisions():
        name = revision.path.rsplit("/", 1)[-1]
        assert name[:8].isdigit(), name


def _differences() -> list:
    with db.engine.connect() as connection, warnings.catch_warnings():
        if connection.dialect.name == "sqlite":
            # SQLite's reflection cannot read an index on an expression (listings by deadline):
            # SQLAlchemy and Alembic say so and skip it; PostgreSQL's run compares it.
            warnings.filterwarnings("ignore", message=".*expression-based index")
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        return compare_metadata(context, db.metadata)


def test_models_match_the_migrations(app: Flask) -> None:
    assert _differences() == []


def test_upgrade_downgrade_upgrade_round_trip(app: Flask) -> None:
    downgrade(revision="base")
    tables = set(sa.inspect(db.engine).get_table_names())
    assert tables <= {"alembic_version"}
    upgrade()
    assert {"users", "organisations", "audit_events"} <= set(
        sa.inspect(db.engine).get_table_names()
    )
    assert _differences() == []
