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


def test_listing_and_organisation_versions_start_at_one(app: Flask) -> None:
    """Rows that existed before the version counters read 1, and the downgrade keeps them."""
    from tests.factories import make_listing

    listing_id = make_listing().id
    db.session.execute(sa.text("UPDATE listings SET version = 7"))
    db.session.execute(sa.text("UPDATE organisations SET version = 7"))
    db.session.commit()
    db.session.close()
    downgrade(revision="28552bb63ed9")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("listings")}
    assert "version" not in columns
    upgrade()
    with db.engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT id, version FROM listings")).all()
        assert [tuple(row) for row in versions] == [(listing_id, 1)]
        assert set(connection.scalars(sa.text("SELECT version FROM organisations"))) == {1}


def test_jobs_recorded_before_retries_read_no_failed_attempt(app: Flask) -> None:
    """A job queued before failed jobs were tried again has had no failed attempt and no wait
    (the sweep takes it as before), and the downgrade keeps it."""
    db.session.execute(
        sa.text("INSERT INTO jobs (kind, params) VALUES ('alerts.send_alerts', '{}')")
    )
    db.session.commit()
    db.session.close()
    downgrade(revision="7b3e9d1c4a26")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("jobs")}
    assert not {"attempts", "next_attempt_at"} & columns
    upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT kind, attempts, next_attempt_at FROM jobs"))
        assert [tuple(row) for row in rows] == [("alerts.send_alerts", 0, None)]


def test_notifications_of_announcements_are_linked_to_them_by_their_address(app: Flask) -> None:
    """Notifications of announcements written before the link are linked by the address they
    hold, so that the digest leaves out those whose announcement is withdrawn; others, and an
    address naming no announcement, stay unlinked."""
    from tests.factories import make_user

    user_id = make_user().id
    db.session.execute(
        sa.text(
            "INSERT INTO announcements (kind, audience, title, body, country, ends_on, status,"
            " created_at, updated_at) VALUES ('event', 'everyone', 'Fair', 'A fair.', 'GB',"
            " '2030-01-01', 'published', '2026-12-01 00:00:00', '2026-12-01 00:00:00')"
        )
    )
    announcement_id = db.session.scalar(sa.text("SELECT max(id) FROM announcements"))
    db.session.commit()
    db.session.close()
    downgrade(revision="547750d5f0b2")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("notifications")}
    assert "announcement_id" not in columns
    with db.engine.begin() as connection:
        for kind, url in [
            ("announcement", f"/announcements/{announcement_id}"),
            ("announcement", f"/announcements/{announcement_id + 1}"),
            ("saved_search", "/needs?q=x"),
        ]:
            connection.execute(
                sa.text(
                    "INSERT INTO notifications (user_id, kind, message, url, created_at)"
                    " VALUES (:user, :kind, 'm', :url, '2026-12-01 00:00:00')"
                ),
                {"user": user_id, "kind": kind, "url": url},
            )
    upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT kind, announcement_id FROM notifications ORDER BY id")
        )
        assert [tuple(row) for row in rows] == [
            ("announcement", announcement_id),
            ("announcement", None),
            ("saved_search", None),
        ]
