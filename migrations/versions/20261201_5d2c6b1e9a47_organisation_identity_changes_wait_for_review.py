"""Changes to a verified organisation's name, kind, website or country wait for a coordinator.

Revision ID: 5d2c6b1e9a47
Revises: 4c1926b3e28c
Create Date: 2026-12-01 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5d2c6b1e9a47"
down_revision = "4c1926b3e28c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable): no table rebuild on SQLite.
    op.add_column(
        "organisations", sa.Column("pending_changes", sa.JSON(none_as_null=True), nullable=True)
    )


def downgrade() -> None:
    # Changes still waiting are dropped with the column; the verified identity stays.
    op.drop_column("organisations", "pending_changes")
