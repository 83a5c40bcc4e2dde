"""Organisations: creation, editing, contact people, members, invitations and verification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import selectinload

from matchmaker.accounts.models import User
from matchmaker.accounts.services import normalise_email
from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.core.i18n import in_language_of
from matchmaker.core.mail import external_url, send_email
from matchmaker.core.paging import Key, order_by
from matchmaker.core.text import single_line
from matchmaker.core.tokens import InvalidToken, make_token, read_token
from matchmaker.core.versions import EditConflict, bump_version, is_stale
from matchmaker.core.words import DEFAULT_LANGUAGE, check_language
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, ListingStatus
from matchmaker.listings.services import change_status
from matchmaker.organisations.events import organisation_changed
from matchmaker.organisations.models import (
    IDENTITY_FIELDS,
    ContactPerson,
    Invitation,
    InvitationStatus,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    typed_identity_value,
)
from matchmaker.places import gazetteer
from matchmaker.places.names import place_key
from matchmaker.territories.services import EVERYTHING, Coverage

EDITABLE_FIELDS = (
    "name",
    "kind",
    "description",
    "language",
    "website",
    "city",
    "region",
    "country",
)
# What the matcher reads of an organisation among them (its kind, words, language and place).
MATCHED_FIELDS = frozenset(EDITABLE_FIELDS) - {"website"}


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _name_taken(name: str, country: str, exclude_id: int | None = None) -> bool:
    # Mirrors the unique constraint on (name, country), case-insensitively.
    statement = sa.select(Organisation.id).where(
        sa.func.lower(Organisation.name) == name.strip().lower(),
        Organisation.country == country,
    )
    if exclude_id is not None:
        statement = statement.where(Organisation.id != exclude_id)
    return db.session.scalar(statement) is not None


def locate(city: str, country: str) -> dict[str, Any]:
    """The gazetteer's place for ``city`` in ``country``, as the organisation's columns."""
    place = gazetteer.resolve(city, country)
    if place is None:
        raise DomainError(
            _(
                "We cannot find %(city)s in the chosen country. Check the spelling, write the "
                "city's name in another language, or pick it from the suggestions.",
                city=city.strip(),
            ),
            "city",
        )
    return {
        "geonames_id": place.geonames_id,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "subdivision": place.subdivision,
    }


def create_organisation(
    *,
    creator: User,
    name: str,
    kind: OrganisationKind,
    description: str,
    city: str,
    region: str,
    country: str,
    language: str = DEFAULT_LANGUAGE,
    website: str | None = None,
    contact: dict[str, str | None] | None = None,
) -> Organisation:
    if _name_taken(name, country):
        raise DomainError(
            _(
                "An organisation with this name is already registered in this country. Ask its "
                "owner to invite you instead."
            ),
            "name",
        )
    organisation = Organisation(
        name=name.strip(),
        kind=kind,
        description=description.strip(),
        language=check_language(language),
        website=_clean(website),
        city=gazetteer.written_name(city),
        region=region.strip(),
        country=country,
        created_by_id=creator.id,
        **locate(city, country),
    )
    organisation.memberships.append(Membership(user=creator, role=MembershipRole.OWNER))
    if contact and _clean(contact.get("name")):
        organisation.contacts.append(_contact_from(contact, author=creator))
    db.session.add(organisation)
    db.session.flush()
    record_event("organisation:create", actor=creator, subject=organisation)
    return organisation


def update_organisation(
    *, organisation: Organisation, actor: User, expected_version: int | None = None, **fields: Any
) -> bool:
    """Apply an owner's edit. Returns True when changes to a verified organisation's identity
    (IDENTITY_FIELDS) wait for a coordinator: until one decides, the verified values stay,
    and with them what the organisation may do (a challenge needs a verified public agency).

    ``expected_version`` is the version the form was read at: when someone else saved the
    organisation since (an owner, a coordinator deciding on its changes), EditConflict, and
    nothing changes. None saves without comparing.
    """
    if is_stale(organisation, expected_version):
        raise EditConflict(
            _(
                "Someone else saved changes to this organisation while you were editing it. "
                "Nothing of yours is saved yet: compare your entries below with the saved "
                "organisation, then save again."
            )
        )
    name = fields.get("name", organisation.name)
    country = fields.get("country", organisation.country)
    if _name_taken(name, country, exclude_id=organisation.id):
        raise DomainError(
            _("An organisation with this name is already registered in this country."), "name"
        )
    if "language" in fields:
        check_language(fields["language"])
    as_matched = matcher_view(organisation)
    changes: dict[str, list[Any]] = {}
    if "city" in fields:
        # Found in the country the owner chose (which may still wait for a coordinator).
        place = locate(fields["city"], country)
        fields = {**fields, "city": gazetteer.written_name(fields["city"])}
        for key, value in place.items():
            setattr(organisation, key, value)
    held_back = organisation.is_verified
    pending = dict(organisation.pending_changes or {})
    for key in EDITABLE_FIELDS:
        if key not in fields:
            continue
        value = fields[key]
        value = value.strip() if isinstance(value, str) else value
        if key == "website":
            value = _clean(value)
        before = getattr(organisation, key)
        if held_back and key in IDENTITY_FIELDS:
            # The form says what the owner wants now: back to the verified value cancels.
            if before != value:
                pending[key] = str(value) if value is not None else None
            else:
                pending.pop(key, None)
        elif before != value:
            changes[key] = [str(before) if before is not None else None, str(value)]
            setattr(organisation, key, value)
    if organisation.status == OrganisationStatus.REJECTED and changes:
        # An edited organisation goes back to the queue for another look.
        organisation.status = OrganisationStatus.PENDING
        changes["status"] = [OrganisationStatus.REJECTED.value, OrganisationStatus.PENDING.value]
    if held_back and pending != (organisation.pending_changes or {}):
        organisation.pending_changes = pending or None
        changes["pending_changes"] = [None, pending or None]
    if changes:
        bump_version(organisation)
        record_event("organisation:update", actor=actor, subject=organisation, details=changes)
    if organisation.is_verified and MATCHED_FIELDS & changes.keys():
        matched_again(organisation, as_matched)
    return bool(organisation.pending_changes)


def matcher_view(organisation: Organisation) -> dict[str, Any]:
    """What the matcher read of the organisation before a change: whether it was verified, and
    its place (the ``organisation_changed`` event's ``verified_before`` and ``place_before``)."""
    return {
        "verified_before": organisation.is_verified,
        "place_before": {
            "country": organisation.country,
            "region": organisation.region,
            "city": organisation.city,
            "geonames_id": organisation.geonames_id,
            "subdivision": organisation.subdivision,
        },
    }


def matched_again(organisation: Organisation, before: dict[str, Any]) -> None:
    """Its listings are matched again after the commit (the matching feature listens)."""
    db.session.flush()
    organisation_changed.send(organisation, **before)


def _apply_pending_changes(organisation: Organisation) -> dict[str, list[str | None]]:
    pending = organisation.pending_changes or {}
    name = pending.get("name") or organisation.name
    country = pending.get("country") or organisation.country
    if _name_taken(name, country, exclude_id=organisation.id):
        raise DomainError(
            _("Another organisation now has this name in this country; reject the change.")
        )
    applied: dict[str, list[str | None]] = {}
    for key, value in pending.items():
        before = getattr(organisation, key)
        setattr(organisation, key, typed_identity_value(key, value))
        applied[key] = [str(before) if before is not None else None, value]
    organisation.pending_changes = None
    bump_version(organisation)  # an edit form read before shows other values
    return applied


def _contact_from(data: dict[str, str | None], *, author: User) -> ContactPerson:
    email = _clean(data.get("email"))
    return ContactPerson(
        name=(data.get("name") or "").strip(),
        position=(data.get("position") or "").strip(),
        email=normalise_email(email) if email else None,
        phone=_clean(data.get("phone")),
        created_by_id=author.id,
    )


def add_contact(*, organisation: Organisation, actor: User, **data: str | None) -> ContactPerson:
    contact = _contact_from(data, author=actor)
    organisation.contacts.append(contact)
    db.session.flush()
    record_event(
        "organisation:add-contact",
        actor=actor,
        subject=organisation,
        details={"name": contact.name, "position": contact.position},
    )
    return contact


def remove_contact(*, organisation: Organisation, actor: User, contact: ContactPerson) -> None:
    organisation.contacts.remove(contact)
    record_event(
        "organisation:remove-contact",
        actor=actor,
        subject=organisation,
        details={"name": contact.name},
    )


# Members and invitations ----------------------------------------------------------------


def invite_member(*, organisation: Organisation, actor: User, email: str) -> Invitation:
    email = normalise_email(email)
    if any(m.user.email == email for m in organisation.memberships):
        raise DomainError(_("This person is already a member."), "email")
    # The newest invitation replaces any still waiting for the same address.
    _revoke_invitations(organisation, email)
    invitation = Invitation(organisation=organisation, email=email, invited_by=actor)
    db.session.add(invitation)
    db.session.flush()
    token = make_token("invitation", {"invitation": invitation.id, "email": email})
    send_email(
        email,
        # No names that users wrote: the subject is what a spammer would most like to choose.
        _("An invitation to join an organisation on SSE Matchmaker"),
        "invitation",
        organisation=organisation,
        inviter=actor,
        accept_url=external_url(url_for("organisations.accept_invitation", token=token)),
        signup_url=external_url(url_for("accounts.signup")),
        days=_invitation_max_age() // 86400,
    )
    record_event("organisation:invite", actor=actor, subject=organisation, details={"email": email})
    return invitation


def _invitation_max_age() -> int:
    return int(current_app.config["INVITATION_MAX_AGE"])


def pending_invitations(organisation: Organisation) -> list[Invitation]:
    """Invitations that can still be accepted, newest first."""
    since = utcnow() - timedelta(seconds=_invitation_max_age())
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.organisation_id == organisation.id,
                Invitation.status == InvitationStatus.PENDING,
                Invitation.created_at > since,
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def _revoke_invitations(organisation: Organisation, email: str) -> list[Invitation]:
    invitations = list(
        db.session.scalars(
            sa.select(Invitation).where(
                Invitation.organisation_id == organisation.id,
                Invitation.email == normalise_email(email),
                Invitation.status == InvitationStatus.PENDING,
            )
        )
    )
    for invitation in invitations:
        invitation.status = InvitationStatus.REVOKED
    return invitations


def revoke_invitation(*, organisation: Organisation, actor: User, invitation: Invitation) -> None:
    if invitation.status != InvitationStatus.PENDING:
        raise DomainError(_("This invitation was already used or revoked."))
    invitation.status = InvitationStatus.REVOKED
    record_event(
        "organisation:revoke-invitation",
        actor=actor,
        subject=organisation,
        details={"email": invitation.email},
    )


def invitation_for_token(token: str, *, lock: bool = False) -> Invitation:
    """The pending invitation of ``token``; ``lock``: to be accepted, held until the
    transaction ends, so that the same acceptance sent twice at once (a double click) finds it
    accepted the second time instead of adding the member twice."""
    data = read_token("invitation", token, _invitation_max_age())
    invitation = db.session.get(
        Invitation, data.get("invitation"), with_for_update={"key_share": True} if lock else None
    )
    if invitation is None or invitation.status != InvitationStatus.PENDING:
        raise InvalidToken()
    if not invitation.organisation.is_verified:
        # Only verified organisations invite; taking the verification back revokes what it sent
        # (reject_organisation), and this also ends those sent before that did.
        raise InvalidToken()
    return invitation


def accept_invitation(*, invitation: Invitation, user: User) -> Membership:
    if normalise_email(invitation.email) != user.email:
        raise DomainError(
            _(
                "This invitation was sent to %(email)s. Sign in with that address to accept it.",
                email=invitation.email,
            )
        )
    organisation = invitation.organisation
    existing = next((m for m in organisation.memberships if m.user_id == user.id), None)
    # One invitation lets one person in once: the others to the same address end here.
    _revoke_invitations(organisation, invitation.email)
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_at = utcnow()
    # The invitation was mailed to this address, so following it proves the address works.
    user.confirm_email()
    if existing is not None:
        return existing
    membership = Membership(user=user, organisation=organisation, role=MembershipRole.MEMBER)
    db.session.add(membership)
    db.session.flush()
    record_event("organisation:join", actor=user, subject=organisation)
    return membership


def remove_member(*, organisation: Organisation, actor: User, membership: Membership) -> None:
    # Two owners removing each other at once would each count two owners and leave none: the
    # organisation's row is held and its members read again, so the second waits and counts.
    db.session.refresh(organisation, with_for_update={"key_share": True})
    if membership not in organisation.memberships:
        return  # removed by a request sent just before (a double click)
    owners = [m for m in organisation.memberships if m.role == MembershipRole.OWNER]
    if membership.role == MembershipRole.OWNER and len(owners) <= 1:
        raise DomainError(_("An organisation keeps at least one owner."))
    organisation.memberships.remove(membership)
    # Otherwise a second invitation still waiting would let the removed member back in.
    revoked = _revoke_invitations(organisation, membership.user.email)
    record_event(
        "organisation:remove-member",
        actor=actor,
        subject=organisation,
        details={"email": membership.user.email, "invitations_revoked": len(revoked)},
    )


# Verification ----------------------------------------------------------------------------


def _awaiting_verification() -> Any:
    """New organisations, and verified ones whose identity changes wait for a coordinator."""
    return sa.or_(
        Organisation.status == OrganisationStatus.PENDING,
        sa.and_(
            Organisation.status == OrganisationStatus.VERIFIED,
            Organisation.pending_changes.is_not(None),
        ),
    )


def count_awaiting_verification(coverage: Coverage = EVERYTHING) -> int:
    statement = sa.select(sa.func.count()).select_from(Organisation)
    return (
        db.session.scalar(statement.where(_awaiting_verification(), coverage.organisations())) or 0
    )


def verification_queue(coverage: Coverage = EVERYTHING) -> list[Organisation]:
    """What waits for verification among the organisations ``coverage`` holds."""
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(_awaiting_verification(), coverage.organisations())
            .options(selectinload(Organisation.memberships).selectinload(Membership.user))
            .order_by(Organisation.created_at, Organisation.id)
        )
    )


def _mail_owners(
    organisation: Organisation, subject: LazyString, template: str, **context: Any
) -> None:
    """One mail to each owner, in the owner's language (``subject`` is a lazy_gettext)."""
    for membership in organisation.memberships:
        if membership.role == MembershipRole.OWNER:
            with in_language_of(membership.user):
                send_email(
                    membership.user.email,
                    str(subject),
                    template,
                    organisation=organisation,
                    **context,
                )


def _check_not_closed(organisation: Organisation) -> None:
    """A closed organisation stays closed: its owners took it down (privacy/erasure.py), and a
    decision would put its page back up (verified) or open it to edits again (rejected)."""
    if organisation.is_closed:
        raise DomainError(
            _("%(name)s is closed: it is neither verified nor refused.", name=organisation.name)
        )


def verify_organisation(*, organisation: Organisation, actor: User) -> None:
    """Verify a new organisation, or accept the identity changes of a verified one."""
    _check_not_closed(organisation)
    if organisation.is_verified and organisation.has_pending_changes:
        _accept_changes(organisation=organisation, actor=actor)
        return
    if organisation.status == OrganisationStatus.VERIFIED:
        raise DomainError(_("This organisation is already verified."))
    before = organisation.status
    as_matched = matcher_view(organisation)
    organisation.status = OrganisationStatus.VERIFIED
    organisation.status_reason = None
    organisation.verified_at = utcnow()
    organisation.verified_by_id = actor.id
    matched_again(organisation, as_matched)
    record_event(
        "organisation:verify",
        actor=actor,
        subject=organisation,
        details={"before": before.value, "after": OrganisationStatus.VERIFIED.value},
    )
    _mail_owners(
        organisation,
        _l("“%(organisation)s” is verified", organisation=single_line(organisation.name)),
        "organisation_verified",
        url=external_url(url_for("organisations.show", organisation_id=organisation.id)),
    )


def _accept_changes(*, organisation: Organisation, actor: User) -> None:
    was_public_agency = organisation.kind == OrganisationKind.PUBLIC_AGENCY
    as_matched = matcher_view(organisation)
    applied = _apply_pending_changes(organisation)
    if was_public_agency and organisation.kind != OrganisationKind.PUBLIC_AGENCY:
        close_challenges(organisation, actor=actor)
    organisation.verified_at = utcnow()
    organisation.verified_by_id = actor.id
    record_event("organisation:accept-changes", actor=actor, subject=organisation, details=applied)
    matched_again(organisation, as_matched)
    _mail_owners(
        organisation,
        _l(
            "The changes to “%(organisation)s” are verified",
            organisation=single_line(organisation.name),
        ),
        "organisation_verified",
        changes=True,
        url=external_url(url_for("organisations.show", organisation_id=organisation.id)),
    )


def close_challenges(organisation: Organisation, *, actor: User | None) -> None:
    """Challenges are a public agency's: once the verified kind is another (a coordinator
    accepted the change, or an import made it), its open or paused challenges close (their
    pending proposals are withdrawn by the matcher as for any closing)."""
    challenges = db.session.scalars(
        sa.select(Listing).where(
            Listing.organisation_id == organisation.id,
            Listing.kind == ListingKind.CHALLENGE,
            Listing.status.in_([ListingStatus.OPEN, ListingStatus.PAUSED]),
        )
    )
    for challenge in challenges:
        change_status(listing=challenge, actor=actor, action="close")


def _refuse_changes(*, organisation: Organisation, actor: User, reason: str) -> None:
    refused = organisation.pending_changes
    organisation.pending_changes = None
    bump_version(organisation)  # an edit form read before still asks for the refused changes
    record_event(
        "organisation:refuse-changes",
        actor=actor,
        subject=organisation,
        details={"changes": refused, "reason": reason},
    )
    _mail_owners(
        organisation,
        _l(
            "The changes to “%(organisation)s” could not be verified",
            organisation=single_line(organisation.name),
        ),
        "organisation_rejected",
        changes=True,
        reason=reason,
        url=external_url(url_for("organisations.edit", organisation_id=organisation.id)),
    )


def reject_organisation(*, organisation: Organisation, actor: User, reason: str) -> None:
    """Refuse a new organisation, or the identity changes of a verified one (which stays
    verified as it was)."""
    _check_not_closed(organisation)
    if organisation.is_verified and organisation.has_pending_changes:
        _refuse_changes(organisation=organisation, actor=actor, reason=reason.strip())
        return
    before = organisation.status
    as_matched = matcher_view(organisation)
    organisation.status = OrganisationStatus.REJECTED
    organisation.status_reason = reason.strip()
    if before == OrganisationStatus.VERIFIED:
        matched_again(organisation, as_matched)  # its pending proposals are withdrawn
        # Only verified organisations invite: those it sent let nobody in any more.
        for invitation in db.session.scalars(
            sa.select(Invitation).where(
                Invitation.organisation_id == organisation.id,
                Invitation.status == InvitationStatus.PENDING,
            )
        ):
            invitation.status = InvitationStatus.REVOKED
    record_event(
        "organisation:reject",
        actor=actor,
        subject=organisation,
        details={"before": before.value, "after": "rejected", "reason": reason.strip()},
    )
    _mail_owners(
        organisation,
        _l(
            "“%(organisation)s” could not be verified yet",
            organisation=single_line(organisation.name),
        ),
        "organisation_rejected",
        reason=reason.strip(),
        url=external_url(url_for("organisations.edit", organisation_id=organisation.id)),
    )


# Directory -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    kind: str = ""
    country: str = ""
    region: str = ""


# The directory's order, by which its pages (and the API's) follow one another.
DIRECTORY_ORDER = (Key(Organisation.name), Key(Organisation.id))


def directory_statement(filters: DirectoryFilters) -> sa.Select[tuple[Organisation]]:
    statement = sa.select(Organisation).where(Organisation.status == OrganisationStatus.VERIFIED)
    if filters.q:
        statement = statement.where(
            sa.func.lower(Organisation.name).contains(filters.q.strip().lower(), autoescape=True)
        )
    if filters.kind:
        statement = statement.where(Organisation.kind == OrganisationKind(filters.kind))
    if filters.country:
        statement = statement.where(Organisation.country == filters.country)
    if filters.region:
        statement = statement.where(Organisation.region_folded == place_key(filters.region))
    return statement.order_by(*order_by(DIRECTORY_ORDER))


def user_organisations(user: User) -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .join(Membership)
            .where(Membership.user_id == user.id)
            .order_by(Organisation.name)
        )
    )


def countries_in_directory() -> list[str]:
    """The countries of verified organisations (the directory's filter offers these)."""
    return list(
        db.session.scalars(
            sa.select(Organisation.country)
            .distinct()
            .where(Organisation.status == OrganisationStatus.VERIFIED)
        )
    )


def directory_counts() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Organisation.kind, sa.func.count())
        .where(Organisation.status == OrganisationStatus.VERIFIED)
        .group_by(Organisation.kind)
    ).all()
    return {kind.value: count for kind, count in rows}


def page_size() -> int:
    return int(current_app.config["PAGE_SIZE"])
