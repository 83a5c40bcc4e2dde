from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker.db import TimestampMixin
from matchmaker.extensions import db


class Notification(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """Something a user should know about, shown in the app and, by preference, mailed."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE")
    )
    # An announcement's notification is shown and mailed only while the announcement is current
    # (services.still_relevant).
    announcement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(64))
    message: Mapped[str] = mapped_column(sa.String(500))
    url: Mapped[str] = mapped_column(sa.String(500))
    read_at: Mapped[datetime | None] = mapped_column()
    emailed_at: Mapped[datetime | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<Notification {self.id} user={self.user_id} {self.kind}>"
