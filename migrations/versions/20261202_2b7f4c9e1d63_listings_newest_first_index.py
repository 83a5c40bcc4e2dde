"""An index on listings by kind, then newest first (created_at, id): the needs, offers and
challenges pages read their rows in this order, a page after a cursor's key, without sorting
every open listing of the kind first.

Revision ID: 2b7f4c9e1d63
Revises: 9e3b5a7c1d48
Create Date: 2026-12-02 15:05:00
"""

from alembic import op

revision = "2b7f4c9e1d63"
down_revision = "9e3b5a7c1d48"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_listings_kind_created_at_id", "listings", ["kind", "created_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_listings_kind_created_at_id", table_name="listings")
