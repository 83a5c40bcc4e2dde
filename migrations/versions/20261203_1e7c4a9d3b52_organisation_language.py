"""The language each organisation's name and description are written in, as listings have one.

The matcher read an organisation's own text in the language of whichever of its listings it
happened to read first; it now reads it in the organisation's language. Existing organisations
get the language most of their listings are written in (a tie goes to the language of the
earliest listing among the tied ones), or English when they have none: their owners can correct
it on the organisation's page. Nothing stored is derived from an organisation's text (the
matcher analyses it at each run), so there is nothing to recompute.

Revision ID: 1e7c4a9d3b52
Revises: d6e1a4b8c935
Create Date: 2026-12-03 07:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1e7c4a9d3b52"
down_revision = "d6e1a4b8c935"
branch_labels = None
depends_on = None

organisations = sa.table(
    "organisations", sa.column("id", sa.Integer), sa.column("language", sa.String)
)
listings = sa.table(
    "listings",
    sa.column("id", sa.Integer),
    sa.column("organisation_id", sa.Integer),
    sa.column("language", sa.String),
)


def _languages_from_listings() -> dict[int, str]:
    """Each organisation with listings → the language most of them are written in."""
    counted = op.get_bind().execute(
        sa.select(
            listings.c.organisation_id,
            listings.c.language,
            sa.func.count(),
            sa.func.min(listings.c.id),
        ).group_by(listings.c.organisation_id, listings.c.language)
    )
    best: dict[int, tuple[int, int, str]] = {}
    for organisation_id, language, count, first_id in counted:
        # The most listings first, then the earliest listing: the smallest (-count, first id).
        candidate = (-count, first_id, language)
        if organisation_id not in best or candidate < best[organisation_id]:
            best[organisation_id] = candidate
    return {organisation_id: language for organisation_id, (*_, language) in best.items()}


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild on SQLite); existing rows take the default.
    op.add_column(
        "organisations",
        sa.Column("language", sa.String(length=2), server_default="en", nullable=False),
    )
    updates = [
        {"organisation_id": organisation_id, "found": language}
        for organisation_id, language in _languages_from_listings().items()
        if language != "en"
    ]
    if updates:
        op.get_bind().execute(
            organisations.update()
            .where(organisations.c.id == sa.bindparam("organisation_id"))
            .values(language=sa.bindparam("found")),
            updates,
        )


def downgrade() -> None:
    op.drop_column("organisations", "language")
