"""Failed jobs are tried again: how many attempts a job's work failed, and when its next
attempt is due (none: as soon as it is taken). Existing jobs read 0 attempts, no wait.

Revision ID: 4e8a2c7b1d95
Revises: 7b3e9d1c4a26
Create Date: 2026-12-06 00:20:00
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "4e8a2c7b1d95"
down_revision = "7b3e9d1c4a26"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (the counter with a default): no table rebuild on SQLite, no rewrite
    # on PostgreSQL.
    op.add_column("jobs", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "jobs",
        sa.Column("next_attempt_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    # Columns without an index or a constraint: SQLite (3.35+) drops them without a rebuild.
    op.drop_column("jobs", "next_attempt_at")
    op.drop_column("jobs", "attempts")
