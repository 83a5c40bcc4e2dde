"""Organisations' cities are real places: GeoNames id, coordinates and ISO 3166-2 subdivision.

Existing cities are looked up in the gazetteer (matchmaker/places) in their organisation's
country; those it cannot find keep a NULL GeoNames id, which flags them: their owners are asked
to pick the city again.

Revision ID: 3a8f1c6d2e90
Revises: e41a7c9d2b60
Create Date: 2026-12-02 00:00:00
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "3a8f1c6d2e90"
down_revision = "e41a7c9d2b60"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

organisations = sa.table(
    "organisations",
    sa.column("id", sa.Integer),
    sa.column("city", sa.String),
    sa.column("country", sa.String),
    sa.column("geonames_id", sa.Integer),
    sa.column("latitude", sa.Float),
    sa.column("longitude", sa.Float),
    sa.column("subdivision", sa.String),
)


def upgrade() -> None:
    # Plain ADD COLUMNs (nullable) and indexes: no table rebuild on SQLite.
    op.add_column("organisations", sa.Column("geonames_id", sa.Integer(), nullable=True))
    op.add_column("organisations", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("organisations", sa.Column("longitude", sa.Float(), nullable=True))
    op.add_column("organisations", sa.Column("subdivision", sa.String(length=10), nullable=True))
    op.create_index(
        op.f("ix_organisations_geonames_id"), "organisations", ["geonames_id"], unique=False
    )
    op.create_index(
        op.f("ix_organisations_subdivision"), "organisations", ["subdivision"], unique=False
    )

    from matchmaker.places.gazetteer import resolve

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(organisations.c.id, organisations.c.city, organisations.c.country)
    ).all()
    unresolved = 0
    for organisation_id, city, country in rows:
        place = resolve(city or "", country)
        if place is None:
            unresolved += 1
            continue
        connection.execute(
            organisations.update()
            .where(organisations.c.id == organisation_id)
            .values(
                geonames_id=place.geonames_id,
                latitude=place.latitude,
                longitude=place.longitude,
                subdivision=place.subdivision,
            )
        )
    if rows:
        log.info(
            "places: %d of %d organisations' cities found; %d flagged for their owners",
            len(rows) - unresolved,
            len(rows),
            unresolved,
        )


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_subdivision"))
        batch_op.drop_index(batch_op.f("ix_organisations_geonames_id"))
        batch_op.drop_column("subdivision")
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
        batch_op.drop_column("geonames_id")
