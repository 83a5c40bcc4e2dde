"""Introduction requests: a member's "I'm interested" in another organisation's listing, kept
beside the proposal it creates (template "requested"); one per listing and organisation.

Revision ID: b7e2d94c1a53
Revises: 7d3e9b2a6c41
Create Date: 2026-12-01 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "b7e2d94c1a53"
down_revision = "7d3e9b2a6c41"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "introduction_requests",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_introduction_requests_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_introduction_requests_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_introduction_requests_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_introduction_requests_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_introduction_requests")),
        sa.UniqueConstraint(
            "listing_id",
            "organisation_id",
            name=op.f("uq_introduction_requests_listing_id_organisation_id"),
        ),
    )
    op.create_index(
        op.f("ix_introduction_requests_organisation_id"),
        "introduction_requests",
        ["organisation_id"],
    )


def downgrade() -> None:
    # The requested proposals stay (with their parties and answers); only who asked and the
    # message go.
    op.drop_index(
        op.f("ix_introduction_requests_organisation_id"), table_name="introduction_requests"
    )
    op.drop_table("introduction_requests")
