"""Personal access tokens for the JSON API: a name, a scope (read or write), the SHA-256 digest
of the token (never the token), when it was last used and when it was revoked.

Revision ID: 6bf2b8ba3c33
Revises: 3f6a1c2e9b70
Create Date: 2026-12-02 00:00:00
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "6bf2b8ba3c33"
down_revision = "3f6a1c2e9b70"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("read", "write", name="tokenscope", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("last_used_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_access_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_tokens_token_hash")),
    )
    op.create_index(op.f("ix_access_tokens_user_id"), "access_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_access_tokens_user_id"), table_name="access_tokens")
    op.drop_table("access_tokens")
