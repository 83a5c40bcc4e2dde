"""Proposals with their parties, matcher runs, and matching settings.

Revision ID: 0952052126bc
Revises: abe3fcd0a245
Create Date: 2026-11-24 19:53:16.916737
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "0952052126bc"
down_revision = "abe3fcd0a245"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matching_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_matching_settings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_matching_settings")),
    )
    op.create_table(
        "matcher_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("full", "incremental", name="runkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "running", "finished", "failed", name="runstatus", native_enum=False, length=32
            ),
            server_default="running",
            nullable=False,
        ),
        sa.Column("focus_listing_id", sa.Integer(), nullable=True),
        sa.Column("started_at", matchmaker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("listings_considered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("candidates_scored", sa.Integer(), server_default="0", nullable=False),
        sa.Column("proposals_created", sa.Integer(), server_default="0", nullable=False),
        sa.Column("proposals_withdrawn", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["focus_listing_id"],
            ["listings.id"],
            name=op.f("fk_matcher_runs_focus_listing_id_listings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matcher_runs")),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending_review",
                "approved",
                "rejected",
                "withdrawn",
                "agreed",
                "declined",
                name="proposalstatus",
                native_enum=False,
                length=32,
            ),
            server_default="pending_review",
            nullable=False,
        ),
        sa.Column("fingerprint", sa.String(length=255), nullable=False),
        sa.Column("matcher_run_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=255), nullable=True),
        sa.Column("withdrawn_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_proposals_score_range")),
        sa.ForeignKeyConstraint(
            ["matcher_run_id"],
            ["matcher_runs.id"],
            name=op.f("fk_proposals_matcher_run_id_matcher_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_proposals_fingerprint")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index("ix_proposals_status_score", ["status", "score"], unique=False)

    op.create_table(
        "proposal_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_proposal_parties_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_proposal_parties_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_parties_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_parties")),
        sa.UniqueConstraint(
            "proposal_id", "listing_id", name=op.f("uq_proposal_parties_proposal_id_listing_id")
        ),
    )
    with op.batch_alter_table("proposal_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_parties_listing_id"), ["listing_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_proposal_parties_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("proposal_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_parties_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_proposal_parties_listing_id"))

    op.drop_table("proposal_parties")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_proposals_status_score")

    op.drop_table("proposals")
    op.drop_table("matcher_runs")
    op.drop_table("matching_settings")
