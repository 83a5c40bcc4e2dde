"""Listings indexed by kind, deadline (none last) and id: the needs, offers and challenges
pages sorted by deadline read their page from the index instead of sorting every open listing
of the kind.

Revision ID: d6e1a4b8c935
Revises: c5d9f3a7b024
Create Date: 2026-12-02 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d6e1a4b8c935"
down_revision = "c5d9f3a7b024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The expression as the model writes it (listings/models.py DEADLINE_OR_NONE): a query uses
    # the index only when it orders by the same expression.
    op.create_index(
        "ix_listings_kind_deadline_order",
        "listings",
        ["kind", sa.text("coalesce(deadline, '9999-12-31')"), "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_listings_kind_deadline_order", table_name="listings")
