"""Erase a member's account, and close an organisation.

An erased account keeps its row under a random pseudonym (``former-member-3fa9c2d1``), so the
audit trail still tells which events one person did, and the listings they wrote in an
organisation that goes on still have an author, shown as a former member; nothing links the
pseudonym back to the person. Their name, addresses, contact records, messages, notifications,
saved searches, access tokens and mail go. An organisation whose last member leaves this way
is closed, as an owner may close one: its listings close, its pending proposals are withdrawn
with the reason, so are its introductions still waiting for answers (the other parties are
told), its contact people and open invitations go. Coordinators see in the audit
trail that an erasure or a closing happened (``user:erase``, ``organisation:close``),
with no details of what went.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from markupsafe import escape

from matchmaker.accounts.models import AccessToken, EmailPreference, Role, User, hash_password
from matchmaker.alerts.models import SavedSearch
from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.core.models import AuditEvent, OutboxMessage
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingStatus
from matchmaker.listings.services import change_status
from matchmaker.notifications.models import Notification
from matchmaker.organisations.models import (
    ContactPerson,
    Invitation,
    InvitationStatus,
    MembershipRole,
    Organisation,
    OrganisationStatus,
)
from matchmaker.organisations.services import matched_again, matcher_view
from matchmaker.proposals.events import proposal_released
from matchmaker.proposals.models import (
    IntroductionRequest,
    Outcome,
    ProposalResponse,
    ProposalStatus,
)
from matchmaker.proposals.services import end_introductions, of_organisation

PSEUDONYM_PREFIX = "former-member-"
PSEUDONYM_DOMAIN = "erased.invalid"  # .invalid never resolves: nothing can be mailed there
# What mail kept in the outbox says instead of the person's name (stored text, not a page).
FORMER_MEMBER = "a former member"
ORGANISATION_CLOSED = "The organisation closed."


def _check_password(user: User, password: str) -> None:
    if not user.check_password(password):
        raise DomainError(_("Your password is not correct."), "password")


# Closing an organisation -----------------------------------------------------------------


def _hold_proposals(organisation: Organisation) -> None:
    """Lock the organisation's pending proposals and introductions, in id order as an
    approval or an answer locks them (coverage.lock_overlapping, services.lock_proposal), and
    read them again: one a coordinator approves or a party answers at this moment is waited
    for, then ended or withdrawn as it is now, not written over (a 500 here when that
    decision committed first, or an introduction left open with a closed organisation)."""
    db.session.scalars(
        of_organisation(organisation, ProposalStatus.PENDING_REVIEW, ProposalStatus.APPROVED)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()


def _withdraw_pending_proposals(organisation: Organisation, *, actor: User) -> None:
    pending = db.session.scalars(of_organisation(organisation, ProposalStatus.PENDING_REVIEW)).all()
    now = utcnow()
    for proposal in pending:
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.withdrawn_reason, proposal.withdrawn_at = ORGANISATION_CLOSED, now
        record_event(
            "proposal:withdraw",
            actor=actor,
            subject=proposal,
            details={"reason": ORGANISATION_CLOSED, "organisation": organisation.id},
        )
        proposal_released.send(proposal)  # its partners' listings have room again


def _close(organisation: Organisation, *, actor: User) -> None:
    before = organisation.status
    _hold_proposals(organisation)
    # Before the pending ones: what an introduction covered returns to the queue, and is
    # withdrawn with them if it holds one of the organisation's listings.
    end_introductions(organisation=organisation, actor=actor, reason=ORGANISATION_CLOSED)
    # First, so the matcher, told of each closed listing below, finds nothing left to withdraw.
    _withdraw_pending_proposals(organisation, actor=actor)
    listings = db.session.scalars(
        sa.select(Listing)
        .where(
            Listing.organisation_id == organisation.id,
            Listing.status.in_([ListingStatus.OPEN, ListingStatus.PAUSED]),
        )
        .order_by(Listing.id)
    ).all()
    # Closed before its listings, and the matcher told, as of an organisation rejected: it
    # leaves its city-region once, with all its listings' words (one question of which related
    # pairs that makes or unmakes, engine.organisation_kin_to_match), not once for each
    # listing that closes after another.
    as_matched = matcher_view(organisation)
    organisation.status = OrganisationStatus.CLOSED
    organisation.closed_at = utcnow()
    matched_again(organisation, as_matched)
    for listing in listings:
        change_status(listing=listing, actor=actor, action="close")
    organisation.pending_changes = None
    # Nobody is reached through a closed organisation: its people's details have no use left.
    organisation.contacts.clear()
    for invitation in db.session.scalars(
        sa.select(Invitation).where(
            Invitation.organisation_id == organisation.id,
            Invitation.status == InvitationStatus.PENDING,
        )
    ):
        invitation.status = InvitationStatus.REVOKED
    record_event(
        "organisation:close",
        actor=actor,
        subject=organisation,
        details={"before": before.value, "listings_closed": len(listings)},
    )


def close_organisation(*, organisation: Organisation, actor: User, password: str) -> None:
    """An owner closes their organisation, confirming with their password."""
    _check_password(actor, password)
    if organisation.is_closed:
        raise DomainError(_("This organisation is already closed."))
    _close(organisation, actor=actor)


# Erasing an account ------------------------------------------------------------------------


def _known_emails(user: User) -> set[str]:
    """The address the account has now, and every one it had before."""
    emails = {user.email}
    changes = db.session.scalars(
        sa.select(AuditEvent.details).where(
            AuditEvent.action == "user:change-email",
            AuditEvent.subject_type == "user",
            AuditEvent.subject_id == user.id,
        )
    )
    for details in changes:
        emails.update(str(v).lower() for k, v in details.items() if k in ("before", "after") and v)
    return emails


def _leave_organisations(user: User) -> None:
    for membership in sorted(user.memberships, key=lambda m: m.organisation_id):
        organisation = membership.organisation
        # The last two members erasing their accounts at once would each count the other as
        # staying, and leave the organisation open with nobody in it: its row is held (in the
        # order of their ids, as other erasures take them) and its members read again, so the
        # second waits, finds itself the last and closes it (as organisations.remove_member).
        db.session.refresh(organisation, with_for_update={"key_share": True})
        if membership not in organisation.memberships:
            continue  # removed by an owner meanwhile
        others = [m for m in organisation.memberships if m.user_id != user.id]
        organisation.memberships.remove(membership)
        if not others:
            _close(organisation, actor=user)
        elif membership.role == MembershipRole.OWNER and not any(
            m.role == MembershipRole.OWNER for m in others
        ):
            # An organisation keeps an owner: the longest-standing member.
            successor = min(others, key=lambda m: (m.created_at, m.id))
            successor.role = MembershipRole.OWNER
            record_event(
                "organisation:new-owner",
                actor=user,
                subject=organisation,
                details={"user": successor.user_id},
            )
        record_event("organisation:leave", actor=user, subject=organisation)


def _delete_contacts(user: User, emails: set[str]) -> None:
    db.session.execute(
        sa.delete(ContactPerson).where(
            sa.or_(
                ContactPerson.created_by_id == user.id,
                sa.func.lower(ContactPerson.email).in_(emails),
            )
        )
    )
    db.session.execute(sa.delete(Invitation).where(sa.func.lower(Invitation.email).in_(emails)))


def _clear_messages(user: User) -> None:
    db.session.execute(
        sa.update(ProposalResponse)
        .where(ProposalResponse.responded_by_id == user.id)
        .values(message=None)
    )
    db.session.execute(
        sa.update(IntroductionRequest)
        .where(IntroductionRequest.requested_by_id == user.id)
        .values(message=None)
    )
    db.session.execute(
        sa.update(Outcome).where(Outcome.recorded_by_id == user.id).values(note=None)
    )
    db.session.execute(sa.delete(Notification).where(Notification.user_id == user.id))
    # Their alerts go with them (the database cascades).
    db.session.execute(sa.delete(SavedSearch).where(SavedSearch.user_id == user.id))
    db.session.execute(sa.delete(AccessToken).where(AccessToken.user_id == user.id))


class _Scrubber:
    """Replaces a person's addresses and name in text, wherever they appear."""

    def __init__(self, emails: Iterable[str], names: Iterable[str], replacement: str) -> None:
        self.replacement = replacement
        self.emails = sorted(set(emails), key=len, reverse=True)
        self.names = sorted({n for n in names if n.strip()}, key=len, reverse=True)
        self.words = [*self.emails, *self.names]
        self.pattern = re.compile(
            "|".join(
                # An address not inside a longer one ("anna.maria@x.org" keeps its own), but
                # at the end of a sentence; a name only as a whole word, and not as a part of
                # an address ("Analysis" and "juliana.ana@x.org" stay).
                [rf"(?<![\w.+-]){re.escape(e)}(?!\.?[\w-])" for e in self.emails]
                + [rf"(?<![\w.+-]){re.escape(n)}(?![\w@-]|\.\w)" for n in self.names]
            ),
            re.IGNORECASE,
        )

    def text(self, value: str) -> str:
        return self.pattern.sub(self.replacement, value) if self.words else value

    def html(self, value: str) -> str:
        escaped = _Scrubber(
            [str(escape(e)) for e in self.emails],
            [str(escape(n)) for n in self.names],
            str(escape(self.replacement)),
        )
        return escaped.text(self.text(value))

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        return value

    def forms(self) -> list[str]:
        """How the words may be stored: as written, and as JSON writes non-ASCII text."""
        return sorted({*self.words, *(json.dumps(w)[1:-1] for w in self.words)})


def _mentioning(column: Any, forms: list[str]) -> sa.ColumnElement[bool]:
    # As stored: addresses are kept in lower case, names as their owner wrote them (SQLite's
    # lower() would leave "Σοφία" as it is while Python's would not, so no case folding here).
    return sa.or_(*(column.contains(f, autoescape=True) for f in forms))


def _scrub_outbox(emails: set[str], scrubber: _Scrubber) -> None:
    """Mail to the person goes (or goes on without their address, when it had others); mail
    to others that names them stays, without the name."""
    forms = scrubber.forms()
    candidates = db.session.scalars(
        sa.select(OutboxMessage).where(
            sa.or_(
                _mentioning(OutboxMessage.recipients, sorted(emails)),
                _mentioning(OutboxMessage.subject, forms),
                _mentioning(OutboxMessage.body_text, forms),
                _mentioning(OutboxMessage.body_html, [*forms, *(str(escape(f)) for f in forms)]),
            )
        )
    ).all()
    for message in candidates:
        addresses = [a.strip() for a in message.recipients.split(",") if a.strip()]
        others = [a for a in addresses if a.lower() not in emails]
        if not others:
            db.session.delete(message)
            continue
        message.recipients = ", ".join(others)
        message.subject = scrubber.text(message.subject)
        message.body_text = scrubber.text(message.body_text)
        message.body_html = scrubber.html(message.body_html)


def _scrub_audit(user: User, scrubber: _Scrubber) -> None:
    """The events stay, under the pseudonym; the messages the person wrote go."""
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            sa.or_(
                AuditEvent.actor_id == user.id,
                _mentioning(sa.cast(AuditEvent.details, sa.Text), scrubber.forms()),
            )
        )
    )
    for event in events:
        details = scrubber.data(event.details or {})
        if event.actor_id == user.id and details.get("message"):
            details["message"] = None
        if details != event.details:
            event.details = details


def _last_admin(user: User) -> bool:
    if user.role != Role.ADMIN:
        return False
    # The admins' rows held, in the order of their ids as accounts.services.set_role takes
    # them: two admins erasing their accounts at once would each count two and leave none;
    # the second waits, then counts one.
    admins = db.session.scalars(
        sa.select(User.id)
        .where(User.role == Role.ADMIN, User.erased_at.is_(None))
        .order_by(User.id)
        .with_for_update(key_share=True)
    ).all()
    return len(admins) <= 1


def erase_account(*, user: User, password: str) -> str:
    """Erase the member's personal data, confirming with their password. Returns the pseudonym
    the account keeps. The caller commits and signs the session out."""
    _check_password(user, password)
    if user.is_erased:
        raise DomainError(_("This account is already erased."))
    if _last_admin(user):
        raise DomainError(
            _("The last admin cannot erase their account: make someone else admin first.")
        )
    pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(4)
    emails = _known_emails(user)
    scrubber = _Scrubber(emails, [user.display_name], pseudonym)
    _leave_organisations(user)
    _delete_contacts(user, emails)
    _clear_messages(user)
    _scrub_outbox(emails, _Scrubber(emails, [user.display_name], FORMER_MEMBER))
    _scrub_audit(user, scrubber)
    user.email = f"{pseudonym}@{PSEUDONYM_DOMAIN}"
    user.display_name = pseudonym
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    user.end_sessions()
    user.is_active_account = False
    user.email_confirmed_at = user.last_login_at = user.language = None
    user.email_preference = EmailPreference.NONE
    user.erased_at = utcnow()
    record_event("user:erase", actor=user, subject=user)
    return pseudonym
