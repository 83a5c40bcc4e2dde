"""Each user's language for pages and mail (empty: follow the browser's Accept-Language).

Revision ID: 5d1c0e7a9b42
Revises: 5d2c6b1e9a47
Create Date: 2026-12-01 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5d1c0e7a9b42"
down_revision = "5d2c6b1e9a47"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("language")
