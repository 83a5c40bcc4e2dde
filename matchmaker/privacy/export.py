"""Everything the app holds about one member, as one JSON document they can download."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa

from matchmaker.accounts.models import AccessToken, User
from matchmaker.alerts.models import SavedSearch
from matchmaker.alerts.services import FILTER_FIELDS
from matchmaker.core.models import AuditEvent
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.interchange.document import CONTACT_COLUMNS
from matchmaker.listings.models import Listing
from matchmaker.notifications.models import Notification
from matchmaker.organisations.models import Membership, MembershipRole, Organisation
from matchmaker.proposals.models import IntroductionRequest, Outcome, Proposal, ProposalResponse

FORMAT = "sse-matchmaker-member-data"
VERSION = 1


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _row(obj: Any, *names: str) -> dict[str, Any]:
    return {name: _value(getattr(obj, name)) for name in names}


def _scalars(statement: sa.Select[Any]) -> list[Any]:
    return list(db.session.scalars(statement))


def _account(user: User) -> dict[str, Any]:
    return _row(
        user,
        "id",
        "email",
        "display_name",
        "role",
        "language",
        "email_preference",
        "email_confirmed_at",
        "last_login_at",
        "created_at",
        "updated_at",
    )


def _memberships(user: User) -> list[dict[str, Any]]:
    memberships = _scalars(
        sa.select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    )
    return [
        {
            "organisation_id": m.organisation_id,
            "organisation": m.organisation.name,
            "role": m.role.value,
            "since": _value(m.created_at),
        }
        for m in memberships
    ]


def _owned_organisations(user: User) -> list[dict[str, Any]]:
    organisations = _scalars(
        sa.select(Organisation)
        .join(Membership)
        .where(Membership.user_id == user.id, Membership.role == MembershipRole.OWNER)
        .order_by(Organisation.id)
    )
    return [
        {
            **_row(
                o,
                "id",
                "name",
                "kind",
                "description",
                "language",
                "website",
                "city",
                "region",
                "country",
                "status",
                "created_at",
            ),
            "contacts": [_row(c, *CONTACT_COLUMNS, "created_at") for c in o.contacts],
        }
        for o in organisations
    ]


def _listings(user: User) -> list[dict[str, Any]]:
    listings = _scalars(
        sa.select(Listing).where(Listing.created_by_id == user.id).order_by(Listing.id)
    )
    return [
        {
            **_row(
                listing,
                "id",
                "organisation_id",
                "kind",
                "title",
                "description",
                "scope",
                "language",
                "status",
                "expires_on",
                "deadline",
                "created_at",
                "closed_at",
            ),
            "themes": [theme.slug for theme in listing.themes],
        }
        for listing in listings
    ]


def _introduction_requests(user: User) -> list[dict[str, Any]]:
    requests = _scalars(
        sa.select(IntroductionRequest)
        .where(IntroductionRequest.requested_by_id == user.id)
        .order_by(IntroductionRequest.proposal_id)
    )
    return [
        _row(r, "proposal_id", "listing_id", "organisation_id", "message", "created_at")
        for r in requests
    ]


def _answers(user: User) -> list[dict[str, Any]]:
    responses = _scalars(
        sa.select(ProposalResponse)
        .where(ProposalResponse.responded_by_id == user.id)
        .order_by(ProposalResponse.id)
    )
    return [
        _row(
            r,
            "proposal_id",
            "organisation_id",
            "decision",
            "message",
            "is_shown_publicly",
            "created_at",
        )
        for r in responses
    ]


def _outcomes(user: User) -> list[dict[str, Any]]:
    outcomes = _scalars(
        sa.select(Outcome).where(Outcome.recorded_by_id == user.id).order_by(Outcome.id)
    )
    return [
        _row(o, "proposal_id", "organisation_id", "kind", "happened_on", "note", "created_at")
        for o in outcomes
    ]


def _decisions(user: User) -> list[dict[str, Any]]:
    """A coordinator's decisions on proposals."""
    proposals = _scalars(
        sa.select(Proposal).where(Proposal.decided_by_id == user.id).order_by(Proposal.id)
    )
    return [
        {
            "proposal_id": p.id,
            **_row(p, "status", "rejection_reason", "decision_note", "decided_at"),
        }
        for p in proposals
    ]


def _notifications(user: User) -> list[dict[str, Any]]:
    notifications = _scalars(
        sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    )
    return [
        _row(n, "kind", "message", "url", "proposal_id", "created_at", "read_at", "emailed_at")
        for n in notifications
    ]


def _saved_searches(user: User) -> list[dict[str, Any]]:
    searches = _scalars(
        sa.select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.id)
    )
    return [_row(s, "name", "kind", *FILTER_FIELDS, "is_paused", "created_at") for s in searches]


def _access_tokens(user: User) -> list[dict[str, Any]]:
    """Their names (and scope and dates): never the token, nor its digest or hint."""
    tokens = _scalars(
        sa.select(AccessToken).where(AccessToken.user_id == user.id).order_by(AccessToken.id)
    )
    return [_row(t, "name", "scope", "created_at", "last_used_at", "revoked_at") for t in tokens]


def audit_events_about(user: User) -> sa.Select[tuple[AuditEvent]]:
    """What the member did, and what was done to their account."""
    return sa.select(AuditEvent).where(
        sa.or_(
            AuditEvent.actor_id == user.id,
            sa.and_(AuditEvent.subject_type == "user", AuditEvent.subject_id == user.id),
        )
    )


def _audit_events(user: User) -> list[dict[str, Any]]:
    events = _scalars(audit_events_about(user).order_by(AuditEvent.id))
    return [
        {
            **_row(e, "created_at", "action", "subject_type", "subject_id", "details"),
            "by_you": e.actor_id == user.id,
        }
        for e in events
    ]


def member_data(user: User) -> dict[str, Any]:
    """The document: one key per kind of record, each a list (empty when there are none)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _value(utcnow()),
        "account": _account(user),
        "memberships": _memberships(user),
        "organisations_owned": _owned_organisations(user),
        "listings_written": _listings(user),
        "introductions_requested": _introduction_requests(user),
        "proposal_answers": _answers(user),
        "outcomes_recorded": _outcomes(user),
        "proposal_decisions": _decisions(user),
        "notifications": _notifications(user),
        "saved_searches": _saved_searches(user),
        "access_tokens": _access_tokens(user),
        "audit_events": _audit_events(user),
    }
