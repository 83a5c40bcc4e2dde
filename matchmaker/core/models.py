"""The append-only audit trail."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.db import TimestampMixin
from matchmaker.extensions import db


class AuditEvent(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    subject_type: Mapped[str] = mapped_column(sa.String(32))
    subject_id: Mapped[int | None] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor = relationship("User", lazy="joined")

    __table_args__ = (sa.Index("ix_audit_events_subject", "subject_type", "subject_id"),)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.subject_type}:{self.subject_id}>"
