"""The migration to real places finds existing cities and flags the ones it cannot."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from matchmaker.extensions import db

BEFORE = "e41a7c9d2b60"


def test_existing_cities_are_found_and_the_others_flagged(app: Flask) -> None:
    downgrade(revision=BEFORE)
    with db.engine.begin() as connection:
        for name, city, country in [
            ("Greek", "Αθήνα", "GR"),
            ("Moroccan", "Tanger", "MA"),
            ("Typo", "Liverpol", "GB"),
        ]:
            connection.execute(
                sa.text(
                    "INSERT INTO organisations (name, kind, description, city, region, country,"
                    " status, created_at, updated_at) VALUES (:name, 'sse_organisation', '',"
                    " :city, '', :country, 'verified', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"name": name, "city": city, "country": country},
            )
    upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT name, city, geonames_id, subdivision FROM organisations ORDER BY name")
        ).all()
    assert [tuple(row) for row in rows] == [
        ("Greek", "Αθήνα", 264371, "GR-I"),
        ("Moroccan", "Tanger", 2530335, "MA-01"),
        ("Typo", "Liverpol", None, None),  # flagged: its owners are asked to pick it
    ]
    downgrade(revision=BEFORE)
    upgrade()
