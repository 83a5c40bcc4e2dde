"""Proposal parties indexed by listing and proposal (in place of listing alone): an incremental
run finds the proposals of its neighbourhood's listings from the index alone.

Revision ID: c5d9f3a7b024
Revises: b4c8e2f6a913
Create Date: 2026-12-02 15:00:00
"""

from alembic import op

revision = "c5d9f3a7b024"
down_revision = "b4c8e2f6a913"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_proposal_parties_listing_id_proposal_id",
        "proposal_parties",
        ["listing_id", "proposal_id"],
    )
    op.drop_index("ix_proposal_parties_listing_id", table_name="proposal_parties")


def downgrade() -> None:
    op.create_index("ix_proposal_parties_listing_id", "proposal_parties", ["listing_id"])
    op.drop_index("ix_proposal_parties_listing_id_proposal_id", table_name="proposal_parties")
