"""How many listings carry each theme (the scoring rules' rarity), kept in a table so that an
incremental run reads it instead of counting every listing's themes; counted from the listings'
themes already stored.

Revision ID: b4c8e2f6a913
Revises: 2b7f4c9e1d63
Create Date: 2026-12-02 14:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b4c8e2f6a913"
down_revision = "2b7f4c9e1d63"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "theme_counts",
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("listings", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_theme_counts_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("theme_id", name=op.f("pk_theme_counts")),
    )
    op.execute(
        "INSERT INTO theme_counts (theme_id, listings) "
        "SELECT theme_id, count(*) FROM listing_themes GROUP BY theme_id"
    )


def downgrade() -> None:
    op.drop_table("theme_counts")
