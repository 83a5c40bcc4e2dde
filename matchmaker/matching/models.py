from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker.db import TimestampMixin, UpdatedMixin, str_enum, utcnow
from matchmaker.extensions import db


class RunKind(enum.StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"

    @property
    def label(self) -> str:
        return str(RUN_KIND_LABELS[self])


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(RUN_STATUS_LABELS[self])


# What the matching settings page says of a run, in the reader's language.
RUN_KIND_LABELS = {
    RunKind.FULL: _l("Every open listing"),
    RunKind.INCREMENTAL: _l("One listing"),
}
RUN_STATUS_LABELS = {
    RunStatus.RUNNING: _l("Running"),
    RunStatus.FINISHED: _l("Finished"),
    RunStatus.FAILED: _l("Failed"),
}


class MatcherRun(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """One run of the matcher: what it looked at and what it changed."""

    __tablename__ = "matcher_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind] = mapped_column(str_enum(RunKind))
    status: Mapped[RunStatus] = mapped_column(
        str_enum(RunStatus), default=RunStatus.RUNNING, server_default=RunStatus.RUNNING.value
    )
    focus_listing_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("listings.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    listings_considered: Mapped[int] = mapped_column(default=0, server_default="0")
    candidates_scored: Mapped[int] = mapped_column(default=0, server_default="0")
    proposals_created: Mapped[int] = mapped_column(default=0, server_default="0")
    proposals_withdrawn: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(sa.Text)  # why a failed run failed

    def __repr__(self) -> str:
        return f"<MatcherRun {self.id} {self.kind.value} {self.status.value}>"


class MatchingSetting(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    """A coordinator's value for one setting; defaults live in code (matching/settings.py)."""

    __tablename__ = "matching_settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[float] = mapped_column(sa.Float)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    def __repr__(self) -> str:
        return f"<MatchingSetting {self.key}={self.value}>"


class WordCount(db.Model):  # type: ignore[name-defined]
    """How many listings (of every listing ever posted) use each significant word (a stem,
    core/words.py): what makes a word rare for the shared-vocabulary rule. Kept in step when
    a listing's words are stored (matching/text.py), so that full and incremental runs weigh a
    word the same way."""

    __tablename__ = "word_counts"

    stem: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    listings: Mapped[int] = mapped_column(default=0, server_default="0")


class ThemeCount(db.Model):  # type: ignore[name-defined]
    """How many listings (of every listing ever posted) carry each theme: what makes a theme
    rare for the scoring rules. Kept in step in every flush that changes a listing's themes
    (matching/theme_counts.py), so that an incremental run reads a few rows instead of
    counting every listing's themes again."""

    __tablename__ = "theme_counts"

    theme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True
    )
    listings: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<ThemeCount {self.theme_id}={self.listings}>"
