"""Erasure: when an account was erased (the row stays as a pseudonym), when an organisation was
closed (a new status, `closed`), and who entered each contact person (their records go when
they erase their account). Existing contact people have no known author.

Revision ID: 413f15638f6d
Revises: 3a8f1c6d2e90
Create Date: 2026-12-01 23:50:02.824530
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "413f15638f6d"
down_revision = "3a8f1c6d2e90"
branch_labels = None
depends_on = None

organisations = sa.table("organisations", sa.column("status", sa.String()))


def upgrade() -> None:
    # Plain ADD COLUMN for the two tables others refer to: SQLite's batch mode would recreate
    # them, and dropping the old `users` or `organisations` would cascade to their dependants.
    op.add_column("users", sa.Column("erased_at", matchmaker.db.UTCDateTime(timezone=True)))
    op.add_column("organisations", sa.Column("closed_at", matchmaker.db.UTCDateTime(timezone=True)))
    # Nothing refers to contact_people, so SQLite may recreate it to add the foreign key.
    with op.batch_alter_table("contact_people") as batch_op:
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_contact_people_created_by_id_users"),
            "users",
            ["created_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_people") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_contact_people_created_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("created_by_id")
    # The older code knows no `closed` status: suspended hides them the same way.
    op.execute(
        organisations.update().where(organisations.c.status == "closed").values(status="suspended")
    )
    op.drop_column("organisations", "closed_at")
    op.drop_column("users", "erased_at")
