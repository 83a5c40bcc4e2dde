"""Announcements: funding calls, training, procurement notices and events posted by public
agencies and coordinators, their themes, and the members each one reached (never twice).

Revision ID: e41a7c9d2b60
Revises: 6bf2b8ba3c33
Create Date: 2026-12-02 00:40:00
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "e41a7c9d2b60"
down_revision = "6bf2b8ba3c33"
branch_labels = None
depends_on = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(
        name,
        matchmaker.db.UTCDateTime(timezone=True),
        server_default=sa.text("(CURRENT_TIMESTAMP)"),
        nullable=False,
    )


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum("announcementkind", "funding_call", "training", "procurement_notice", "event"),
            nullable=False,
        ),
        sa.Column(
            "audience",
            _enum("audience", "project_developers", "policy_makers", "everyone"),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=100), server_default="", nullable=False),
        sa.Column(
            "status",
            _enum("announcementstatus", "published", "withdrawn"),
            server_default="published",
            nullable=False,
        ),
        sa.Column("withdrawn_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        _timestamp("updated_at"),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_announcements_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_announcements_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_index("ix_announcements_status_ends_on", "announcements", ["status", "ends_on"])
    op.create_index(op.f("ix_announcements_author_id"), "announcements", ["author_id"])
    op.create_index(op.f("ix_announcements_country"), "announcements", ["country"])
    op.create_index(op.f("ix_announcements_organisation_id"), "announcements", ["organisation_id"])
    op.create_table(
        "announcement_themes",
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_themes_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_announcement_themes_theme_id_themes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("announcement_id", "theme_id", name=op.f("pk_announcement_themes")),
    )
    op.create_index("ix_announcement_themes_theme_id", "announcement_themes", ["theme_id"])
    op.create_table(
        "announcement_deliveries",
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_deliveries_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_announcement_deliveries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "announcement_id", "user_id", name=op.f("pk_announcement_deliveries")
        ),
    )
    op.create_index("ix_announcement_deliveries_user_id", "announcement_deliveries", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_announcement_deliveries_user_id", table_name="announcement_deliveries")
    op.drop_table("announcement_deliveries")
    op.drop_index("ix_announcement_themes_theme_id", table_name="announcement_themes")
    op.drop_table("announcement_themes")
    op.drop_index(op.f("ix_announcements_organisation_id"), table_name="announcements")
    op.drop_index(op.f("ix_announcements_country"), table_name="announcements")
    op.drop_index(op.f("ix_announcements_author_id"), table_name="announcements")
    op.drop_index("ix_announcements_status_ends_on", table_name="announcements")
    op.drop_table("announcements")
