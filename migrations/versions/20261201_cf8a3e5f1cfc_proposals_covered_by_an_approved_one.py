"""Pending proposals covered by an overlapping approved one (status `covered`).

The link lives in its own table rather than in a column of `proposals`: SQLite adds a column
with a foreign key only by rebuilding the table, and dropping the old `proposals` table would
cascade to its parties, responses and outcomes.

Revision ID: cf8a3e5f1cfc
Revises: 804186b3a23f
Create Date: 2026-12-01 20:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "cf8a3e5f1cfc"
down_revision = "804186b3a23f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proposal_covers",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("covered_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["covered_by_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_covers_covered_by_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_covers_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_proposal_covers")),
    )
    op.create_index(op.f("ix_proposal_covers_covered_by_id"), "proposal_covers", ["covered_by_id"])


def downgrade() -> None:
    # Covered proposals go back to the queue: without the table nothing says what covers them.
    op.execute("UPDATE proposals SET status = 'pending_review' WHERE status = 'covered'")
    op.drop_index(op.f("ix_proposal_covers_covered_by_id"), table_name="proposal_covers")
    op.drop_table("proposal_covers")
