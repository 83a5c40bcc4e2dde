"""Which announcement a notification tells of, so that a notification of an announcement no
longer current (withdrawn, ended, its organisation closed or no longer verified) is neither
shown nor mailed in the digest (notifications/services.py still_relevant). Existing
notifications of announcements are linked by the address they hold (/announcements/<id>).

Revision ID: 9d3f6a1c2e87
Revises: 547750d5f0b2
Create Date: 2026-12-06 07:00:00
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "9d3f6a1c2e87"
down_revision = "547750d5f0b2"
branch_labels = None
depends_on = None

notifications = sa.table(
    "notifications",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("url", sa.String()),
    sa.column("announcement_id", sa.Integer()),
)
announcements = sa.table("announcements", sa.column("id", sa.Integer()))
ADDRESS = re.compile(r"/announcements/(\d+)$")
NOT_REFERRED = {"resolve_fks": False}


def upgrade() -> None:
    # Nothing refers to notifications, so SQLite may recreate it to add the foreign key (read
    # without the tables it refers to: they are not rebuilt).
    with op.batch_alter_table("notifications", reflect_kwargs=NOT_REFERRED) as batch_op:
        batch_op.add_column(sa.Column("announcement_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_notifications_announcement_id"), ["announcement_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_announcement_id_announcements"),
            "announcements",
            ["announcement_id"],
            ["id"],
            ondelete="CASCADE",
        )
    connection = op.get_bind()
    existing = set(connection.scalars(sa.select(announcements.c.id)))
    rows = connection.execute(
        sa.select(notifications.c.id, notifications.c.url).where(
            notifications.c.kind == "announcement"
        )
    ).all()
    by_announcement: dict[int, list[int]] = {}
    for notification_id, url in rows:
        found = ADDRESS.search(url or "")
        if found and int(found.group(1)) in existing:
            by_announcement.setdefault(int(found.group(1)), []).append(notification_id)
    for announcement_id, ids in by_announcement.items():
        connection.execute(
            notifications.update()
            .where(notifications.c.id.in_(ids))
            .values(announcement_id=announcement_id)
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", reflect_kwargs=NOT_REFERRED) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_notifications_announcement_id_announcements"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_notifications_announcement_id"))
        batch_op.drop_column("announcement_id")
