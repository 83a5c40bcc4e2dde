"""Coordinator decisions, party responses, outcomes, notifications and email preferences.

Revision ID: a5894c6ea0de
Revises: 0952052126bc
Create Date: 2026-11-24 20:25:00.089525
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "a5894c6ea0de"
down_revision = "0952052126bc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("read_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_notifications_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user_read", ["user_id", "read_at"], unique=False)

    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "first_meeting",
                "agreement_signed",
                "project_launched",
                "funding_obtained",
                "no_follow_up",
                name="outcomekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_outcomes_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_outcomes_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_outcomes_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
    )
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outcomes_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "proposal_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum("accepted", "declined", name="responsedecision", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("responded_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_proposal_responses_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_responses_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["responded_by_id"],
            ["users.id"],
            name=op.f("fk_proposal_responses_responded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_responses")),
        sa.UniqueConstraint(
            "proposal_id",
            "organisation_id",
            name=op.f("uq_proposal_responses_proposal_id_organisation_id"),
        ),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decided_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decision_note", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "rejection_reason",
                sa.Enum(
                    "not_relevant",
                    "already_partners",
                    "wrong_geography",
                    "low_quality",
                    "other",
                    name="rejectionreason",
                    native_enum=False,
                    length=32,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("closed_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reminder_sent_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_proposals_decided_by_id_users"),
            "users",
            ["decided_by_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "email_preference",
                sa.Enum(
                    "immediate",
                    "daily",
                    "none",
                    name="emailpreference",
                    native_enum=False,
                    length=32,
                ),
                server_default="immediate",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_preference")

    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_proposals_decided_by_id_users"), type_="foreignkey")
        batch_op.drop_column("reminder_sent_at")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("rejection_reason")
        batch_op.drop_column("decision_note")
        batch_op.drop_column("decided_by_id")
        batch_op.drop_column("decided_at")

    op.drop_table("proposal_responses")
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcomes_proposal_id"))

    op.drop_table("outcomes")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_read")

    op.drop_table("notifications")
