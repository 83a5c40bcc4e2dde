from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import User
from matchmaker.db import TimestampMixin, UpdatedMixin, str_enum
from matchmaker.extensions import db
from matchmaker.places.names import place_key


class OrganisationKind(enum.StrEnum):
    SSE_ORGANISATION = "sse_organisation"
    ACADEMIC_INSTITUTION = "academic_institution"
    PUBLIC_AGENCY = "public_agency"
    PRIVATE_SECTOR = "private_sector"
    CIVIL_SOCIETY = "civil_society"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])

    @property
    def icon(self) -> str:
        """Its icon in the vendored sprite (scripts/build_icons.py copies the ones named here)."""
        return KIND_ICONS[self]


# Lucide icon names (static/vendor/lucide): decorative, the label always stands beside them.
KIND_ICONS = {
    OrganisationKind.SSE_ORGANISATION: "handshake",
    OrganisationKind.ACADEMIC_INSTITUTION: "graduation-cap",
    OrganisationKind.PUBLIC_AGENCY: "landmark",
    OrganisationKind.PRIVATE_SECTOR: "briefcase",
    OrganisationKind.CIVIL_SOCIETY: "users",
}

KIND_LABELS = {
    OrganisationKind.SSE_ORGANISATION: _l("SSE organisation"),
    OrganisationKind.ACADEMIC_INSTITUTION: _l("Academic institution"),
    OrganisationKind.PUBLIC_AGENCY: _l("Public agency"),
    OrganisationKind.PRIVATE_SECTOR: _l("Private sector"),
    OrganisationKind.CIVIL_SOCIETY: _l("Civil society"),
}


class OrganisationStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    CLOSED = "closed"  # by its owner, or when its last member erased their account

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    OrganisationStatus.PENDING: _l("Waiting for verification"),
    OrganisationStatus.VERIFIED: _l("Verified"),
    OrganisationStatus.REJECTED: _l("Not verified"),
    OrganisationStatus.SUSPENDED: _l("Suspended"),
    OrganisationStatus.CLOSED: _l("Closed"),
}


def typed_identity_value(key: str, value: str | None) -> object:
    """A pending value as the column holds it (kinds are stored by their value)."""
    return OrganisationKind(value) if key == "kind" and value is not None else value


# What a coordinator vouches for when verifying: a change to any of these after verification
# goes back to the verification queue. The other fields change at once.
IDENTITY_FIELDS = ("name", "kind", "website", "country")


class MembershipRole(enum.StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


def _folded_region(context: DefaultExecutionContext) -> str:
    """``region_folded`` of a row inserted outside the ORM (bench/synthetic.py's bulk insert)."""
    return place_key(context.get_current_parameters().get("region") or "")


class Organisation(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "organisations"
    __table_args__ = (
        sa.UniqueConstraint("name", "country"),
        # An incremental run finds the organisations of its focus's region as written (matching/
        # snapshot.py), and the search filters find a region, through this index.
        sa.Index("ix_organisations_region_folded_country", "region_folded", "country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # ISO 639-1 code of the language the name and description are written in (one of
    # core/words.py's LANGUAGES): the matcher reads the organisation's own words in it, as it
    # reads each listing's in the listing's language.
    language: Mapped[str] = mapped_column(sa.String(2), default="en", server_default="en")
    website: Mapped[str | None] = mapped_column(sa.String(500))
    city: Mapped[str] = mapped_column(sa.String(100))  # as the owner writes it
    region: Mapped[str] = mapped_column(sa.String(100))
    # The region as the matcher compares it where the gazetteer does not place the city
    # (places.names.place_key: "Île-de-France" and "ÎLE-DE-FRANCE" are one), kept by
    # _fold_region below: queries compare it as Python does, which neither SQLite's lower()
    # (ASCII letters only) nor PostgreSQL's (the database's locale) can. Case folding may
    # lengthen a word ("ß" is "ss"), up to three characters for one.
    region_folded: Mapped[str] = mapped_column(
        sa.String(300), default=_folded_region, server_default=""
    )
    country: Mapped[str] = mapped_column(sa.String(2), index=True)
    # The city as a real place (matchmaker/places): None until it is found in the gazetteer,
    # which the owner is asked to fix.
    geonames_id: Mapped[int | None] = mapped_column(index=True)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    subdivision: Mapped[str | None] = mapped_column(sa.String(10), index=True)  # ISO 3166-2
    status: Mapped[OrganisationStatus] = mapped_column(
        str_enum(OrganisationStatus),
        default=OrganisationStatus.PENDING,
        server_default=OrganisationStatus.PENDING.value,
    )  # not indexed: nearly every organisation is verified, so it would mislead the planner
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    verified_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    verified_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # Identity fields (IDENTITY_FIELDS) an owner changed after verification, as
    # {field: new value}: they wait for a coordinator while the verified values stay in force.
    pending_changes: Mapped[dict[str, str | None] | None] = mapped_column(
        sa.JSON(none_as_null=True)
    )
    # A digest of the logo's PNG (organisation_logos), None without one: pages decide between
    # the logo and the initials, and version the logo's address, without loading the image.
    logo_digest: Mapped[str | None] = mapped_column(sa.String(16))
    # How many times what the edit form shows was saved, by its owners or by a coordinator
    # deciding on their identity changes (core/versions.py): a form read at another version
    # is not saved over a change it never saw.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    contacts: Mapped[list[ContactPerson]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="ContactPerson.id",
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Membership.id"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.status.value}>"

    @property
    def initials(self) -> str:
        """One or two letters standing for the organisation where it has no logo."""
        words = [word for word in self.name.split() if word[:1].isalnum()]
        # "University of Liverpool" is UL: small words in lower case are passed over (scripts
        # without case, like Arabic, keep every word).
        words = [word for word in words if not word[0].islower()] or words
        letters = "".join(word[0] for word in words[:2]) or self.name[:1]
        return letters.upper()

    @property
    def initials_colour(self) -> int:
        """Which of the stylesheet's colours its initials take, the same on every page."""
        return self.id % 8

    @property
    def is_verified(self) -> bool:
        return self.status == OrganisationStatus.VERIFIED

    @property
    def place_unresolved(self) -> bool:
        """The city was never found in the gazetteer (typed before places were real)."""
        return self.geonames_id is None

    @property
    def is_closed(self) -> bool:
        return self.status == OrganisationStatus.CLOSED

    @property
    def has_pending_changes(self) -> bool:
        return bool(self.pending_changes)

    @property
    def pending_identity_changes(self) -> list[tuple[str, object, object]]:
        """(field, verified value, value asked for) for each change waiting for a coordinator."""
        pending = self.pending_changes or {}
        return [
            (
                key,
                getattr(self, key),
                typed_identity_value(key, pending[key]),
            )
            for key in IDENTITY_FIELDS
            if key in pending
        ]


@sa.event.listens_for(Organisation, "before_insert")
@sa.event.listens_for(Organisation, "before_update")
def _fold_region(_mapper: object, _connection: sa.Connection, organisation: Organisation) -> None:
    organisation.region_folded = place_key(organisation.region or "")


class Membership(TimestampMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MembershipRole] = mapped_column(
        str_enum(MembershipRole),
        default=MembershipRole.MEMBER,
        server_default=MembershipRole.MEMBER.value,
    )

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")

    def __repr__(self) -> str:
        return f"<Membership user={self.user_id} org={self.organisation_id} {self.role.value}>"


class ContactPerson(TimestampMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "contact_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    # Who entered it: their contact records go when they erase their account.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")

    def __repr__(self) -> str:
        return f"<ContactPerson {self.id} {self.name!r}>"


class Invitation(TimestampMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254))
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    status: Mapped[InvitationStatus] = mapped_column(
        str_enum(InvitationStatus),
        default=InvitationStatus.PENDING,
        server_default=InvitationStatus.PENDING.value,
    )
    accepted_at: Mapped[datetime | None] = mapped_column()

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.email} {self.status.value}>"


class OrganisationLogo(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """An organisation's logo as we re-encoded it (a square PNG): never the bytes uploaded."""

    __tablename__ = "organisation_logos"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    image: Mapped[bytes] = mapped_column(sa.LargeBinary)
    digest: Mapped[str] = mapped_column(sa.String(16))

    def __repr__(self) -> str:
        return f"<OrganisationLogo {self.organisation_id} {self.digest}>"
