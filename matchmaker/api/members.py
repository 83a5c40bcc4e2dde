"""A member's own data, with their personal access token: their organisations' listings (the
listing services: the forms' checks, the audit trail and the matcher's run after each change)
and the proposals that introduce their organisations (the proposals services)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.http import quote_etag

from matchmaker.accounts.models import User
from matchmaker.api import api_blueprint
from matchmaker.api.access import Access, api_user
from matchmaker.api.paging import Key, keyset_page
from matchmaker.api.problems import fail
from matchmaker.api.schemas import (
    AnswerSchema,
    ListingInputSchema,
    ListingPageSchema,
    ListingSchema,
    ListingUpdateSchema,
    MyListingArgs,
    MyProposalArgs,
    ProposalPageSchema,
    ProposalSchema,
)
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.core.mail import external_url
from matchmaker.core.versions import current_version
from matchmaker.extensions import db
from matchmaker.listings import permissions as listing_permissions
from matchmaker.listings import services as listing_services
from matchmaker.listings.models import Listing, ListingKind, ListingStatus, Scope
from matchmaker.matching.explanations import render as render_explanation
from matchmaker.organisations.models import Organisation, OrganisationKind
from matchmaker.organisations.permissions import can_view_organisation, is_member
from matchmaker.proposals import permissions as proposal_permissions
from matchmaker.proposals import services as proposal_services
from matchmaker.proposals.models import Proposal, ProposalParty, ResponseDecision

bp = api_blueprint("member", __name__, "Your organisations' listings and proposals (a token).")

NOT_YOURS = _l("No organisation of yours has this id.")


def _domain_failure(error: DomainError) -> Any:
    fail(422, error.message, field=error.field)


# Listings ----------------------------------------------------------------------------------


def _my_organisation_ids(user: User) -> list[int]:
    return [membership.organisation_id for membership in user.memberships]


def _my_listing(listing_id: int, *, to_change: bool = False) -> Listing:
    """A listing of one of the caller's organisations (404 otherwise); ``to_change``: one they
    may change (403 for a closed organisation's, which stay as they were closed)."""
    listing = db.session.get(Listing, listing_id)
    if listing is None or not is_member(api_user(), listing.organisation):
        abort(404)
    if to_change and not listing_permissions.can_edit_listing(api_user(), listing):
        fail(403, _("This organisation is closed: its listings can no longer change."))
    return listing


@bp.route("/me/listings", methods=["GET"], access=Access.READ)
@bp.arguments(MyListingArgs, location="query", as_kwargs=True)
@bp.response(200, ListingPageSchema)
def list_my_listings(
    *, cursor: str | None = None, limit: int, status: str | None = None
) -> dict[str, Any]:
    """Every listing of your organisations, newest first, in every status."""
    statement = sa.select(Listing).where(
        Listing.organisation_id.in_(_my_organisation_ids(api_user()))
    )
    if status:
        statement = statement.where(Listing.status == ListingStatus(status))
    return keyset_page(
        statement,
        keys=[Key(Listing.id, descending=True)],
        row_key=lambda listing: (listing.id,),
        cursor=cursor,
        limit=limit,
    )


@bp.route("/me/listings", methods=["POST"], access=Access.WRITE)
@bp.arguments(ListingInputSchema)
@bp.response(201, ListingSchema)
def create_listing(data: dict[str, Any]) -> Listing:
    """Post a need, an offer or (a public agency) a challenge; the matcher looks for partners
    as soon as it is saved."""
    user = api_user()
    organisation = db.session.get(Organisation, data["organisation_id"])
    if organisation is None or not can_view_organisation(user, organisation):
        fail(422, str(NOT_YOURS), field="organisation_id")
    kind = ListingKind(data["kind"])
    allowed = (
        listing_permissions.can_post_challenges
        if kind == ListingKind.CHALLENGE
        else listing_permissions.can_post_listings
    )
    if not allowed(user, organisation):
        abort(403)
    try:
        listing = listing_services.create_listing(
            organisation=organisation,
            actor=user,
            kind=kind,
            title=data["title"],
            description=data["description"],
            themes=data["themes"],
            scope=Scope(data["scope"]),
            language=data.get("language", organisation.language),
            expires_on=data.get("expires_on"),
            deadline=data.get("deadline"),
            sought_kinds=[OrganisationKind(k) for k in data.get("sought_kinds", [])],
        )
    except DomainError as error:
        _domain_failure(error)
    db.session.commit()
    return listing


# The listing's version (core/versions.py) as an entity tag: it changes when what a PATCH
# changes does (not with its status), so a PATCH sent with If-Match is refused once someone
# else changed the listing since it was read.
ETAG_HEADER = {
    "ETag": {
        "description": "The listing's version: send it back in If-Match with a PATCH.",
        "schema": {"type": "string"},
    }
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag the listing was read with: if someone changed it since, nothing "
    "is saved and the answer is 412 (with the current ETag). Without it the changes are saved "
    "whatever happened meanwhile.",
}


def _etag(listing: Listing) -> dict[str, str]:
    return {"ETag": quote_etag(str(listing.version))}


def _check_if_match(listing: Listing) -> None:
    """RFC 9110's If-Match: absent or "*", no comparison (as before it was supported);
    otherwise the listing's ETag as committed now must be one of those sent (compared under
    the row's lock, held until the change is committed)."""
    conditions = request.if_match
    if not conditions or conditions.star_tag:
        return
    version = str(current_version(listing))
    if not conditions.contains(version):
        fail(
            412,
            _(
                "Someone else changed this listing since you read it: nothing is saved. Read "
                "it again (its ETag is now %(etag)s), then send your changes.",
                etag=quote_etag(version),
            ),
            headers={"ETag": quote_etag(version)},
        )


@bp.route("/me/listings/<int:listing_id>", methods=["GET"], access=Access.READ)
@bp.response(200, ListingSchema, headers=ETAG_HEADER)
def get_my_listing(listing_id: int) -> Any:
    """One listing of your organisations, in any status, with its ETag."""
    listing = _my_listing(listing_id)
    return listing, 200, _etag(listing)


@bp.route("/me/listings/<int:listing_id>", methods=["PATCH"], access=Access.WRITE)
@bp.arguments(ListingUpdateSchema)
@bp.response(200, ListingSchema, headers=ETAG_HEADER)
@bp.alt_response(412, response="DEFAULT_ERROR", description="The If-Match ETag is stale.")
@bp.doc(parameters=[IF_MATCH])
def update_listing(data: dict[str, Any], listing_id: int) -> Any:
    """Change some fields of a listing; the others keep their value.

    Send the ETag you read the listing with (GET's ETag header) in If-Match, and a change
    someone made meanwhile is not overwritten: the answer is 412, with the current ETag.
    Without If-Match (or with "*") the fields sent are saved whatever happened meanwhile.
    Pausing, reopening or closing the listing does not change its ETag.
    """
    listing = _my_listing(listing_id, to_change=True)
    _check_if_match(listing)
    values: dict[str, Any] = {
        "title": data.get("title", listing.title),
        "description": data.get("description", listing.description),
        "themes": data.get("themes", [theme.slug for theme in listing.themes]),
        "scope": Scope(data.get("scope", listing.scope.value)),
        "language": data.get("language", listing.language),
        "expires_on": data.get("expires_on", listing.expires_on),
    }
    if listing.kind == ListingKind.CHALLENGE:
        values["deadline"] = data.get("deadline", listing.deadline)
        values["sought_kinds"] = [
            OrganisationKind(k) for k in data.get("sought_kinds", listing.sought_kinds)
        ]
    try:
        listing_services.update_listing(listing=listing, actor=api_user(), **values)
    except DomainError as error:
        _domain_failure(error)
    db.session.commit()
    return listing, 200, _etag(listing)


@bp.route(
    "/me/listings/<int:listing_id>/<any(pause, reopen, close):action>",
    methods=["POST"],
    access=Access.WRITE,
)
@bp.response(200, ListingSchema)
def change_listing_status(listing_id: int, action: str) -> Listing:
    """Pause, reopen or close a listing (closing withdraws its pending proposals)."""
    listing = _my_listing(listing_id, to_change=True)
    try:
        listing_services.change_status(listing=listing, actor=api_user(), action=action)
    except DomainError as error:
        fail(409, error.message)
    db.session.commit()
    return listing


# Proposals ---------------------------------------------------------------------------------


def proposal_body(proposal: Proposal, user: User) -> dict[str, Any]:
    """A proposal as ``user`` may see it: contacts only once every party accepted."""
    contacts = []
    if proposal_permissions.can_see_contacts(user, proposal):
        contacts = [
            {
                "organisation_id": party.organisation_id,
                "name": contact.name,
                "position": contact.position,
                "email": contact.email,
                "phone": contact.phone,
            }
            for party in proposal.parties
            for contact in party.organisation.contacts
        ]
    return {
        "id": proposal.id,
        "template": proposal.template,
        "score": proposal.score,
        "status": proposal.status.value,
        "version": proposal.version,
        "parties": [
            {
                "organisation": party.organisation,
                "listing_id": party.listing_id,
                "listing_title": party.listing.title,
                "listing_kind": party.listing.kind.value,
                "role": party.role,
            }
            for party in proposal.parties
        ],
        "explanation": [
            {"rule": line.rule, "points": line.points, "reason": line.reason}
            for line in render_explanation(proposal.template, proposal.explanation)
        ],
        "responses": [
            {
                "organisation_id": response.organisation_id,
                "decision": response.decision.value,
                "message": response.message,
                "created_at": response.created_at,
            }
            for response in proposal.responses
        ],
        "awaiting_answer_from": [
            o.id for o in proposal_permissions.organisations_to_respond(user, proposal)
        ],
        "contacts": contacts,
        "created_at": proposal.created_at,
        "url": external_url(url_for("proposals.show", proposal_id=proposal.id)),
    }


def _my_proposal(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    user = api_user()
    # Only introduced proposals, and only to their parties: 404 otherwise, as on the pages.
    if (
        proposal is None
        or not proposal.was_introduced
        or not proposal_permissions.party_organisations(user, proposal)
    ):
        abort(404)
    return proposal


@bp.route("/me/proposals", methods=["GET"], access=Access.READ)
@bp.arguments(MyProposalArgs, location="query", as_kwargs=True)
@bp.response(200, ProposalPageSchema)
def list_my_proposals(
    *, cursor: str | None = None, limit: int, status: str | None = None
) -> dict[str, Any]:
    """Proposals that introduce your organisations, newest first."""
    user = api_user()
    statement = sa.select(Proposal).where(
        Proposal.was_introduced,
        *([Proposal.status == status] if status else []),
        Proposal.id.in_(
            sa.select(ProposalParty.proposal_id).where(
                ProposalParty.organisation_id.in_(_my_organisation_ids(user))
            )
        ),
    )
    page = keyset_page(
        statement,
        keys=[Key(Proposal.id, descending=True)],
        row_key=lambda proposal: (proposal.id,),
        cursor=cursor,
        limit=limit,
    )
    page["items"] = [proposal_body(proposal, user) for proposal in page["items"]]
    return page


@bp.route("/me/proposals/<int:proposal_id>", methods=["GET"], access=Access.READ)
@bp.response(200, ProposalSchema)
def get_my_proposal(proposal_id: int) -> dict[str, Any]:
    """One proposal that introduces one of your organisations."""
    return proposal_body(_my_proposal(proposal_id), api_user())


@bp.route(
    "/me/proposals/<int:proposal_id>/organisations/<int:organisation_id>/"
    "<any(accept, decline):answer>",
    methods=["POST"],
    access=Access.WRITE,
)
@bp.arguments(AnswerSchema)
@bp.response(200, ProposalSchema)
def answer_proposal(
    data: dict[str, Any], proposal_id: int, organisation_id: int, answer: str
) -> dict[str, Any]:
    """Accept or decline an introduction on behalf of one of your organisations. Declining
    needs a message."""
    proposal = _my_proposal(proposal_id)
    user = api_user()
    parties = {o.id: o for o in proposal_permissions.party_organisations(user, proposal)}
    if organisation_id not in parties:
        abort(404)
    decision = ResponseDecision.ACCEPTED if answer == "accept" else ResponseDecision.DECLINED
    try:
        proposal_services.respond(
            proposal=proposal,
            organisation=parties[organisation_id],
            actor=user,
            decision=decision,
            message=data.get("message"),
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if error.field:
            _domain_failure(error)
        fail(409, error.message)
    except (IntegrityError, StaleDataError):
        # The same answer sent twice at once: one of them is recorded.
        db.session.rollback()
        fail(409, _("%(name)s has already answered.", name=parties[organisation_id].name))
    return proposal_body(proposal, user)
