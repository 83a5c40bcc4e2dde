"""A version counter on listings and organisations (optimistic locking of their edit forms):
a form read at another version is not saved over a change it never saw. Existing rows start
at 1.

Revision ID: 7b3e9d1c4a26
Revises: 28552bb63ed9
Create Date: 2026-12-05 01:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7b3e9d1c4a26"
down_revision = "28552bb63ed9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN with a default: every existing row reads 1, without a table rebuild
    # on SQLite or a rewrite on PostgreSQL.
    for table in ("listings", "organisations"):
        op.add_column(table, sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    # A column without an index or a constraint: SQLite (3.35+) drops it without a rebuild.
    for table in ("organisations", "listings"):
        op.drop_column(table, "version")
