"""The append-only audit trail, and the outbox of mail waiting to be delivered."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.db import TimestampMixin, UpdatedMixin, str_enum, utcnow
from matchmaker.extensions import db


class AuditEvent(TimestampMixin, db.Model):  # type: ignore[name-defined]
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


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; an admin may retry it


class OutboxMessage(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    """An email written in the same transaction as the decision that causes it, and delivered
    by a job after that transaction commits (core/outbox.py)."""

    __tablename__ = "outbox_messages"
    # The deliverer's sweep: pending messages whose next attempt is due.
    __table_args__ = (sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipients: Mapped[str] = mapped_column(sa.Text)  # comma-separated addresses
    subject: Mapped[str] = mapped_column(sa.String(500))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    template: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus),
        default=MessageStatus.PENDING,
        server_default=MessageStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    last_error: Mapped[str | None] = mapped_column(sa.String(1000))
    sent_at: Mapped[datetime | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.template} {self.status.value}>"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class Job(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    """A background job someone (or something) is waiting for: its progress and its outcome,
    for a page to show while it runs (core/jobs.py). ``kind`` is the job's task name."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_kind_status", "kind", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus), default=JobStatus.QUEUED, server_default=JobStatus.QUEUED.value
    )
    progress: Mapped[int] = mapped_column(default=0, server_default="0")  # percent
    subject_id: Mapped[int | None] = mapped_column()  # e.g. the listing to match
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)  # the last attempt's, if it failed
    # Attempts that failed; a job whose work failed waits for its next attempt (None: no wait).
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    # When a running job whose worker stopped (no heartbeat) was taken up again (core/jobs.py).
    restarted_at: Mapped[datetime | None] = mapped_column()

    @property
    def is_done(self) -> bool:
        return self.status in (JobStatus.FINISHED, JobStatus.FAILED)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status.value}>"
