"""The significant words of each listing, stored for the matcher.

Left empty here: the matcher finds the words of a listing without them, listings saved from now
on get them, and ``flask --app wsgi match reindex`` fills in the rest.

Revision ID: 804186b3a23f
Revises: a5894c6ea0de
Create Date: 2026-11-25 00:23:18.719416
"""

import sqlalchemy as sa
from alembic import op

revision = "804186b3a23f"
down_revision = "a5894c6ea0de"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on every database: recreating `listings` (Alembic's batch mode) would
    # drop SQLite's full-text search triggers.
    op.add_column("listings", sa.Column("match_words", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("listings", "match_words")
