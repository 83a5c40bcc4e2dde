"""How many listings use each significant word (the shared-vocabulary rule's rarity), counted
from the words already stored on the listings.

Revision ID: 3f6a1c2e9b70
Revises: c766ad22a939
Create Date: 2026-12-02 00:50:00
"""

from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "3f6a1c2e9b70"
down_revision = "c766ad22a939"
branch_labels = None
depends_on = None


def upgrade() -> None:
    word_counts = op.create_table(
        "word_counts",
        sa.Column("stem", sa.Text(), nullable=False),
        sa.Column("listings", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("stem", name=op.f("pk_word_counts")),
    )
    counts: Counter[str] = Counter()
    rows = op.get_bind().execute(sa.text("SELECT match_words FROM listings"))
    for (stored,) in rows:
        if stored:
            counts.update(set(stored.partition("\t")[0].split()))
    op.bulk_insert(
        word_counts, [{"stem": stem, "listings": n} for stem, n in sorted(counts.items())]
    )


def downgrade() -> None:
    op.drop_table("word_counts")
