"""Background jobs with their progress and outcome; the error of a failed matcher run.

Revision ID: 912491e71d1d
Revises: 9d2e41c7a0b5
Create Date: 2026-12-01 20:10:02.018833
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "912491e71d1d"
down_revision = "9d2e41c7a0b5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    now = sa.text("(CURRENT_TIMESTAMP)")
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "finished",
                "failed",
                name="jobstatus",
                native_enum=False,
                length=32,
            ),
            server_default="queued",
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), server_default="0", nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=now,
            nullable=False,
        ),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=now,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_jobs_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_kind_status", "jobs", ["kind", "status"])
    # A plain ADD COLUMN: batch mode would recreate the table for nothing.
    op.add_column("matcher_runs", sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matcher_runs") as batch_op:
        batch_op.drop_column("error")
    op.drop_index("ix_jobs_kind_status", table_name="jobs")
    op.drop_table("jobs")
