"""The language each listing is written in; the matcher's words become Snowball stems in it.

Every existing listing is taken as English (the only language the matcher read until now). Its
stored words are emptied, because they were found by the old English-only stemmer: the matcher
finds the words of a listing without them, listings saved from now on get them again, and
``flask --app wsgi match reindex`` fills in the rest (see the README's upgrade note).

Revision ID: 9d2e41c7a0b5
Revises: 5d1c0e7a9b42
Create Date: 2026-12-01 20:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "9d2e41c7a0b5"
down_revision = "5d1c0e7a9b42"
branch_labels = None
depends_on = None

listings = sa.table("listings", sa.column("match_words", sa.Text()))


def upgrade() -> None:
    # A plain ADD COLUMN on every database: recreating `listings` (Alembic's batch mode) would
    # drop SQLite's full-text search triggers.
    op.add_column(
        "listings", sa.Column("language", sa.String(length=2), server_default="en", nullable=False)
    )
    op.execute(listings.update().values(match_words=None))


def downgrade() -> None:
    op.drop_column("listings", "language")
    op.execute(listings.update().values(match_words=None))
