"""Organisation logos: the re-encoded image in its own table, and its digest on the organisation
(pages choose between the logo and the initials without loading the image).

Revision ID: 7c2d9e4f1a35
Revises: 8e5b2c7d4a10
Create Date: 2026-12-02 04:20:00
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "7c2d9e4f1a35"
down_revision = "8e5b2c7d4a10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("logo_digest", sa.String(length=16), nullable=True))
    op.create_table(
        "organisation_logos",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_logos_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_organisation_logos")),
    )


def downgrade() -> None:
    op.drop_table("organisation_logos")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("logo_digest")
