"""Each organisation's region as the matcher compares it (organisations.region_folded, indexed
with the country): an incremental run found the organisations of its focus's region with the
database's lower(), which on SQLite (and PostgreSQL under the C locale) leaves every capital
outside ASCII as it is, so a region such as "Αττική" or "Île-de-France" never matched, not even
itself, while a full run groups regions in Python. Existing rows are folded here, in Python,
with the function the application folds them with.

Revision ID: 28552bb63ed9
Revises: 1e7c4a9d3b52
Create Date: 2026-12-04 18:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "28552bb63ed9"
down_revision = "1e7c4a9d3b52"
branch_labels = None
depends_on = None

BATCH = 2000

organisations = sa.table(
    "organisations",
    sa.column("id", sa.Integer),
    sa.column("region", sa.String),
    sa.column("region_folded", sa.String),
)


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild on SQLite); every row is folded below.
    op.add_column(
        "organisations",
        sa.Column("region_folded", sa.String(length=300), server_default="", nullable=False),
    )
    # The application's own function (a pure one, no model): the stored key must be the one
    # the application stores for new rows and compares with.
    from matchmaker.places.names import place_key

    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(organisations.c.id, organisations.c.region)
            .where(organisations.c.id > last_id)
            .order_by(organisations.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        updates = [
            {"organisation_id": organisation_id, "folded": place_key(region or "")}
            for organisation_id, region in rows
        ]
        # An empty region is the column's default already.
        updates = [update for update in updates if update["folded"]]
        if updates:
            connection.execute(
                organisations.update()
                .where(organisations.c.id == sa.bindparam("organisation_id"))
                .values(region_folded=sa.bindparam("folded")),
                updates,
            )
        last_id = rows[-1][0]
    op.create_index(
        "ix_organisations_region_folded_country",
        "organisations",
        ["region_folded", "country"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_organisations_region_folded_country", table_name="organisations")
    op.drop_column("organisations", "region_folded")
