"""A party's consent to its agreed partnership being shown on the home page.

Revision ID: 9e3b5a7c1d48
Revises: 7c2d9e4f1a35
Create Date: 2026-12-02 04:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "9e3b5a7c1d48"
down_revision = "7c2d9e4f1a35"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposal_responses") as batch:
        batch.add_column(
            sa.Column("is_shown_publicly", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("proposal_responses") as batch:
        batch.drop_column("is_shown_publicly")
