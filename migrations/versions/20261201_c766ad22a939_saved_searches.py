"""Saved searches: a member's search of needs, offers or challenges (words and filters) kept
under a name, and the listings each one has alerted its owner of (never twice).

Revision ID: c766ad22a939
Revises: b7e2d94c1a53
Create Date: 2026-12-01 23:41:55
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "c766ad22a939"
down_revision = "b7e2d94c1a53"
branch_labels = None
depends_on = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(
        name,
        matchmaker.db.UTCDateTime(timezone=True),
        server_default=sa.text("(CURRENT_TIMESTAMP)"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("need", "offer", "challenge", name="listingkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("q", sa.String(length=200), server_default="", nullable=False),
        sa.Column("theme", sa.String(length=64), server_default="", nullable=False),
        sa.Column("organisation_kind", sa.String(length=32), server_default="", nullable=False),
        sa.Column("country", sa.String(length=2), server_default="", nullable=False),
        sa.Column("region", sa.String(length=100), server_default="", nullable=False),
        sa.Column("scope", sa.String(length=32), server_default="", nullable=False),
        sa.Column("is_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        _timestamp("updated_at"),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_searches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    op.create_index("ix_saved_searches_kind_is_paused", "saved_searches", ["kind", "is_paused"])
    op.create_index("ix_saved_searches_user_id", "saved_searches", ["user_id"])
    op.create_table(
        "saved_search_alerts",
        sa.Column("saved_search_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_saved_search_alerts_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["saved_search_id"],
            ["saved_searches.id"],
            name=op.f("fk_saved_search_alerts_saved_search_id_saved_searches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "saved_search_id", "listing_id", name=op.f("pk_saved_search_alerts")
        ),
    )
    op.create_index("ix_saved_search_alerts_listing_id", "saved_search_alerts", ["listing_id"])


def downgrade() -> None:
    op.drop_index("ix_saved_search_alerts_listing_id", table_name="saved_search_alerts")
    op.drop_table("saved_search_alerts")
    op.drop_index("ix_saved_searches_user_id", table_name="saved_searches")
    op.drop_index("ix_saved_searches_kind_is_paused", table_name="saved_searches")
    op.drop_table("saved_searches")
