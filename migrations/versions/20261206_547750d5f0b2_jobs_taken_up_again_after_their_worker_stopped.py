"""When a running job whose worker stopped (its heartbeat, ``updated_at``, too old) was taken
up again, for its page to say so (core/jobs.py start_job). Only that: the heartbeat itself is
the ``updated_at`` the jobs already have.

Revision ID: 547750d5f0b2
Revises: 4e8a2c7b1d95
Create Date: 2026-12-06 00:40:00
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "547750d5f0b2"
down_revision = "4e8a2c7b1d95"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: no table rebuild on SQLite, no rewrite on PostgreSQL.
    op.add_column(
        "jobs",
        sa.Column("restarted_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    # A column without an index or a constraint: SQLite (3.35+) drops it without a rebuild.
    op.drop_column("jobs", "restarted_at")
