"""Territories: regions with their own page, default language and coordinators, each a set of
ISO 3166-2 subdivisions and GeoNames cities; coordinators appointed to them; announcements kept
to one territory.

Revision ID: 8e5b2c7d4a10
Revises: 5c2d8e1f7a43
Create Date: 2026-12-02 04:30:00
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "8e5b2c7d4a10"
down_revision = "5c2d8e1f7a43"
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
        "territories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subdivisions", sa.JSON(), nullable=False),
        sa.Column("geonames_ids", sa.JSON(), nullable=False),
        _timestamp("updated_at"),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_territories")),
        sa.UniqueConstraint("slug", name=op.f("uq_territories_slug")),
    )
    op.create_table(
        "territory_coordinators",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_territory_coordinators_territory_id_territories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_territory_coordinators_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("territory_id", "user_id", name=op.f("pk_territory_coordinators")),
    )
    op.create_index(
        op.f("ix_territory_coordinators_user_id"), "territory_coordinators", ["user_id"]
    )
    with op.batch_alter_table("announcements") as batch_op:
        batch_op.add_column(sa.Column("territory_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_announcements_territory_id"), ["territory_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_announcements_territory_id_territories"),
            "territories",
            ["territory_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("announcements") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_announcements_territory_id_territories"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_announcements_territory_id"))
        batch_op.drop_column("territory_id")
    op.drop_index(op.f("ix_territory_coordinators_user_id"), table_name="territory_coordinators")
    op.drop_table("territory_coordinators")
    op.drop_table("territories")
