from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import User
from matchmaker.db import TimestampMixin, UpdatedMixin, str_enum, utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Theme
from matchmaker.organisations.models import Organisation, OrganisationKind, OrganisationStatus
from matchmaker.territories.models import Territory


class AnnouncementKind(enum.StrEnum):
    FUNDING_CALL = "funding_call"
    TRAINING = "training"
    PROCUREMENT_NOTICE = "procurement_notice"
    EVENT = "event"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    AnnouncementKind.FUNDING_CALL: _l("Funding call"),
    AnnouncementKind.TRAINING: _l("Training"),
    AnnouncementKind.PROCUREMENT_NOTICE: _l("Procurement notice"),
    AnnouncementKind.EVENT: _l("Event"),
}


class Audience(enum.StrEnum):
    PROJECT_DEVELOPERS = "project_developers"
    POLICY_MAKERS = "policy_makers"
    EVERYONE = "everyone"

    @property
    def label(self) -> str:
        return str(AUDIENCE_LABELS[self])

    @property
    def organisation_kinds(self) -> frozenset[OrganisationKind]:
        return AUDIENCE_KINDS[self]


AUDIENCE_LABELS = {
    Audience.PROJECT_DEVELOPERS: _l("Project developers"),
    Audience.POLICY_MAKERS: _l("Policy makers"),
    Audience.EVERYONE: _l("Everyone"),
}
# Who each audience is, by the kind of their organisation: project developers are the SSE
# organisations and civil society that carry projects; policy makers are the public agencies and
# the academic institutions that advise them.
AUDIENCE_KINDS = {
    Audience.PROJECT_DEVELOPERS: frozenset(
        {OrganisationKind.SSE_ORGANISATION, OrganisationKind.CIVIL_SOCIETY}
    ),
    Audience.POLICY_MAKERS: frozenset(
        {OrganisationKind.PUBLIC_AGENCY, OrganisationKind.ACADEMIC_INSTITUTION}
    ),
    Audience.EVERYONE: frozenset(OrganisationKind),
}


class AnnouncementStatus(enum.StrEnum):
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


announcement_themes = sa.Table(
    "announcement_themes",
    db.metadata,
    sa.Column(
        "announcement_id", sa.ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("theme_id", sa.ForeignKey("themes.id", ondelete="RESTRICT"), primary_key=True),
    sa.Index("ix_announcement_themes_theme_id", "theme_id"),
)


class Announcement(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    """A call, a training, a procurement notice or an event, told to the members it concerns
    until its end date. It reaches the organisations of its territory when it has one, else of
    its country (and region, when set)."""

    __tablename__ = "announcements"
    __table_args__ = (sa.Index("ix_announcements_status_ends_on", "status", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AnnouncementKind] = mapped_column(str_enum(AnnouncementKind))
    audience: Mapped[Audience] = mapped_column(str_enum(Audience))
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(500))
    ends_on: Mapped[date] = mapped_column()
    # Where it is told: the author's organisation's country (a coordinator posting for no
    # organisation chooses it), and its region when the author keeps it to that region.
    country: Mapped[str] = mapped_column(sa.String(2), index=True)
    region: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    status: Mapped[AnnouncementStatus] = mapped_column(
        str_enum(AnnouncementStatus),
        default=AnnouncementStatus.PUBLISHED,
        server_default=AnnouncementStatus.PUBLISHED.value,
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    # When set, it reaches this territory's organisations instead of its country's.
    territory_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("territories.id", ondelete="SET NULL"), index=True
    )

    author: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    territory: Mapped[Territory | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(
        secondary=announcement_themes, order_by="Theme.name", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<Announcement {self.id} {self.kind.value} {self.title!r}>"

    def is_expired(self, today: date | None = None) -> bool:
        return self.ends_on < (today or utcnow().date())

    def is_current(self, today: date | None = None) -> bool:
        """Published, not past its end date, and posted for the coordination team or for an
        organisation still verified (one closed or taken down speaks for nobody): what the
        public list shows and delivery sends."""
        return (
            self.status == AnnouncementStatus.PUBLISHED
            and not self.is_expired(today)
            and (self.organisation is None or self.organisation.is_verified)
        )


def current_announcements() -> sa.ColumnElement[bool]:
    """SQL of :meth:`Announcement.is_current`."""
    return sa.and_(
        Announcement.status == AnnouncementStatus.PUBLISHED,
        Announcement.ends_on >= utcnow().date(),
        sa.or_(
            Announcement.organisation_id.is_(None),
            Announcement.organisation_id.in_(
                sa.select(Organisation.id).where(Organisation.status == OrganisationStatus.VERIFIED)
            ),
        ),
    )


class AnnouncementDelivery(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """A member an announcement was delivered to: never twice (an edit, or the job run again,
    only reaches those it had not reached)."""

    __tablename__ = "announcement_deliveries"
    __table_args__ = (sa.Index("ix_announcement_deliveries_user_id", "user_id"),)

    announcement_id: Mapped[int] = mapped_column(
        sa.ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    def __repr__(self) -> str:
        return f"<AnnouncementDelivery {self.announcement_id} user={self.user_id}>"
