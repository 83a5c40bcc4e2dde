"""Listings keep the one-time key of the form that created them (a form sent twice makes one).

A unique index rather than a unique constraint: SQLite adds one without rebuilding the
`listings` table (which would cascade to its themes and proposal parties).

Revision ID: 7d3e9b2a6c41
Revises: 912491e71d1d
Create Date: 2026-12-01 20:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "7d3e9b2a6c41"
down_revision = "912491e71d1d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("listings", sa.Column("submission_key", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_listings_organisation_id_submission_key"),
        "listings",
        ["organisation_id", "submission_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_listings_organisation_id_submission_key"), table_name="listings")
    op.drop_column("listings", "submission_key")
