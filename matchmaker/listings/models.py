from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import User
from matchmaker.db import UpdatedMixin, str_enum, utcnow
from matchmaker.extensions import db
from matchmaker.organisations.models import Organisation, OrganisationKind


class ListingKind(enum.StrEnum):
    NEED = "need"
    OFFER = "offer"
    CHALLENGE = "challenge"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])

    @property
    def plural(self) -> str:
        return str(KIND_PLURALS[self])


KIND_LABELS = {
    ListingKind.NEED: _l("Need"),
    ListingKind.OFFER: _l("Offer"),
    ListingKind.CHALLENGE: _l("Challenge"),
}
KIND_PLURALS = {
    ListingKind.NEED: _l("Needs"),
    ListingKind.OFFER: _l("Offers"),
    ListingKind.CHALLENGE: _l("Challenges"),
}


class ListingStatus(enum.StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    ListingStatus.OPEN: _l("Open"),
    ListingStatus.PAUSED: _l("Paused"),
    ListingStatus.CLOSED: _l("Closed"),
}


class Scope(enum.StrEnum):
    LOCAL = "local"
    REGIONAL = "regional"
    NATIONAL = "national"
    INTERNATIONAL = "international"

    @property
    def label(self) -> str:
        return str(SCOPE_LABELS[self])


SCOPE_LABELS = {
    Scope.LOCAL: _l("Local (same city)"),
    Scope.REGIONAL: _l("Regional (same region)"),
    Scope.NATIONAL: _l("National (same country)"),
    Scope.INTERNATIONAL: _l("International (anywhere)"),
}


class Theme(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    is_retired: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    def __repr__(self) -> str:
        return f"<Theme {self.slug}>"

    @property
    def icon(self) -> str:
        return theme_icon(self.slug)

    @property
    def label(self) -> str:
        """The name in the reader's language (see :func:`theme_label`)."""
        return theme_label(self.slug, self.name)


# The names of the themes the platform starts with (the migration that made the themes table),
# marked here for translation: a name is shown in the reader's language while it is still the
# one it started with; a theme an admin adds or renames is shown as the admin wrote it.
SEED_THEME_NAMES = {
    "research-evaluation": _l("Research, evaluation and impact measurement"),
    "knowledge-exchange": _l("Knowledge exchange between academia and practice"),
    "policy-strategy": _l("Local SSE policy and strategy"),
    "social-inclusion": _l("Social and active inclusion of people at risk of poverty"),
    "social-innovation": _l("Social innovation"),
    "incubation-entrepreneurship": _l("Incubation and entrepreneurship support"),
    "training-advice": _l("Training, technical and professional advice"),
    "market-access": _l("Market access and public procurement"),
    "funding": _l("Funding and investment (public, national, EU)"),
    "territorial-platforms": _l("Networks and territorial SSE platforms"),
    "participation": _l("Public consultation and participation"),
    "information": _l("Information for project developers and policy makers"),
    "basic-needs": _l("Housing, food and psycho-social support"),
    "work-integration": _l("Work integration and employment"),
    "local-wealth": _l("Local wealth generation and fair distribution"),
}


def theme_label(slug: str, name: str) -> str:
    """A theme's name as the reader reads it: translated where it is a seed theme's name as the
    platform started with it (its catalogs hold those), else as stored."""
    return gettext(name) if slug in SEED_THEME_NAMES else name


def labelled_themes(themes: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Slug → name in the reader's language (:func:`theme_label`) of ``themes`` (slug, stored
    name), in the order of those names: what a list of themes to choose from shows."""
    labels = [(slug, theme_label(slug, name)) for slug, name in themes]
    return dict(sorted(labels, key=lambda item: item[1].casefold()))


# Lucide icon names (static/vendor/lucide) of the seed themes; a theme an admin adds later gets
# the plain tag. Decorative: the theme's name always stands beside its icon.
THEME_ICONS = {
    "research-evaluation": "microscope",
    "knowledge-exchange": "arrow-left-right",
    "policy-strategy": "scroll-text",
    "social-inclusion": "heart-handshake",
    "social-innovation": "lightbulb",
    "incubation-entrepreneurship": "sprout",
    "training-advice": "presentation",
    "market-access": "store",
    "funding": "coins",
    "territorial-platforms": "network",
    "participation": "megaphone",
    "information": "info",
    "basic-needs": "house",
    "work-integration": "hammer",
    "local-wealth": "piggy-bank",
}
DEFAULT_THEME_ICON = "tag"


def theme_icon(slug: str) -> str:
    return THEME_ICONS.get(slug, DEFAULT_THEME_ICON)


listing_themes = sa.Table(
    "listing_themes",
    db.metadata,
    sa.Column("listing_id", sa.ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("themes.id", ondelete="RESTRICT"), primary_key=True),
    sa.Index("ix_listing_themes_theme_id", "theme_id"),
)


class SoughtKind(db.Model):  # type: ignore[name-defined]
    """A kind of partner a challenge seeks."""

    __tablename__ = "listing_sought_kinds"

    listing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind), primary_key=True)

    def __repr__(self) -> str:
        return f"<SoughtKind {self.listing_id} {self.kind.value}>"


class Listing(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    """A need or an offer of one organisation, or a challenge posted by a public agency."""

    __tablename__ = "listings"
    __table_args__ = (
        sa.Index("ix_listings_kind_status", "kind", "status"),
        sa.Index("ix_listings_organisation_id", "organisation_id"),
        # The pages of needs, offers and challenges, newest first (listings/search.py SORT_KEYS).
        sa.Index("ix_listings_kind_created_at_id", "kind", "created_at", "id"),
        # One listing per filled-in form: a form sent twice (Back, then Submit again; a double
        # click) carries the same key and cannot make a second listing, even at the same moment.
        sa.Index(
            "ix_listings_organisation_id_submission_key",
            "organisation_id",
            "submission_key",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    kind: Mapped[ListingKind] = mapped_column(str_enum(ListingKind))
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text)
    scope: Mapped[Scope] = mapped_column(str_enum(Scope))
    # ISO 639-1 code of the language the listing is written in (one of core/words.py's
    # LANGUAGES): it decides how the matcher reads its words.
    language: Mapped[str] = mapped_column(sa.String(2), default="en", server_default="en")
    status: Mapped[ListingStatus] = mapped_column(
        str_enum(ListingStatus),
        default=ListingStatus.OPEN,
        server_default=ListingStatus.OPEN.value,
    )
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    deadline: Mapped[date | None] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    closed_at: Mapped[datetime | None] = mapped_column()
    # The significant words of the title and description, as the matcher compares them
    # (matching/text.py), kept up to date whenever the listing is saved through the ORM.
    match_words: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    # What the full-text search index holds for the title and the description (each word and
    # its stem in the listing's language: core/words.py, listings/search.py), kept up to date
    # whenever the listing is saved through the ORM.
    search_title: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    search_body: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    # The one-time key of the form that created the listing (None for imports and older rows).
    submission_key: Mapped[str | None] = mapped_column(sa.String(64), deferred=True)
    # How many times what the edit form shows was saved (core/versions.py): a form read at
    # another version is not saved over a change it never saw.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    themes: Mapped[list[Theme]] = relationship(
        secondary=listing_themes, order_by="Theme.slug", lazy="selectin"
    )
    sought: Mapped[list[SoughtKind]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SoughtKind.kind"
    )
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Listing {self.id} {self.kind.value} {self.title!r}>"

    @property
    def sought_kinds(self) -> list[OrganisationKind]:
        return [row.kind for row in self.sought]

    @property
    def ends_on(self) -> date | None:
        """The day after which the listing no longer counts: its deadline or its expiry."""
        dates = [d for d in (self.expires_on, self.deadline) if d is not None]
        return min(dates) if dates else None

    def is_expired(self, today: date | None = None) -> bool:
        today = today or utcnow().date()
        return self.ends_on is not None and self.ends_on < today

    def is_live(self, today: date | None = None) -> bool:
        """Open, not expired, and its organisation verified: what matching considers."""
        return (
            self.status == ListingStatus.OPEN
            and not self.is_expired(today)
            and self.organisation.is_verified
        )


# Listings without a deadline come after every deadline.
NO_DEADLINE = date(9999, 12, 31)
# The listing's deadline, or NO_DEADLINE: the order "soonest deadline first" (listings/search.py)
# and its index. The date is written out, not bound: neither engine uses an index on an
# expression when the query holds a parameter where the index holds a constant.
DEADLINE_OR_NONE = sa.func.coalesce(
    Listing.deadline, sa.literal_column(f"'{NO_DEADLINE.isoformat()}'", sa.Date)
)
sa.Index("ix_listings_kind_deadline_order", Listing.kind, DEADLINE_OR_NONE, Listing.id)
