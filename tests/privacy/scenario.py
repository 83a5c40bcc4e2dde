"""A member who has left a trace of every kind, built through the services as the pages would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Flask

from matchmaker.accounts.access_tokens import create_token
from matchmaker.accounts.models import Role, TokenScope, User
from matchmaker.alerts.services import save_search
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, Scope
from matchmaker.listings.search import ListingFilters
from matchmaker.listings.services import create_listing
from matchmaker.organisations.models import Organisation, OrganisationKind
from matchmaker.organisations.services import add_contact, invite_member
from matchmaker.proposals.interest import request_introduction
from matchmaker.proposals.models import (
    OutcomeKind,
    Proposal,
    ProposalParty,
    ResponseDecision,
)
from matchmaker.proposals.services import approve_proposal, record_outcome, respond
from tests.factories import make_listing, make_organisation, make_user

EMAIL = "maria.quiroga@cooperativa-norte.example"
NAME = "Maria Quiroga"


@dataclass
class World:
    member: User
    colleague: User
    coordinator: User
    shared: Organisation  # keeps the colleague when the member goes
    alone: Organisation  # the member is its only member
    need: Listing  # written by the member, in the shared organisation
    offer_alone: Listing  # written by the member, in the organisation of one
    introduced: Proposal  # requested by the member, agreed, with an outcome
    pending: Proposal  # waiting for review, with the lone organisation's offer


def member_with_everything(app: Flask) -> World:
    member = make_user(email=EMAIL, display_name=NAME)
    colleague = make_user()
    coordinator = make_user(role=Role.COORDINATOR)
    shared = make_organisation(owner=member, members=[colleague], name="Cooperativa Norte")
    alone = make_organisation(owner=member, name="Norte Training Collective")
    university = make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION)
    partner_offer = make_listing(organisation=university, kind=ListingKind.OFFER)
    # A need the offer of the organisation of one answers: the pending proposal below is one
    # the matcher keeps when it matches the new listings after the commit.
    partner_need = make_listing(
        organisation=university, kind=ListingKind.NEED, themes=("training-advice",)
    )
    with app.test_request_context():
        add_contact(
            organisation=shared,
            actor=member,
            name=NAME,
            position="Co-director",
            email=EMAIL,
            phone="+34 600 000 000",
        )
        invite_member(organisation=shared, actor=member, email="new.person@example.org")
        create_token(user=member, name=f"{NAME}'s laptop", scope=TokenScope.READ)
        save_search(
            user=member,
            name=f"{NAME}'s research offers",
            filters=ListingFilters(kind=ListingKind.OFFER, q="research"),
        )
        need = create_listing(
            organisation=shared,
            actor=member,
            kind=ListingKind.NEED,
            title="Research on our social impact",
            description="We need a university partner to evaluate the impact of our work.",
            themes=["research-evaluation"],
            scope=Scope.REGIONAL,
        )
        offer_alone = create_listing(
            organisation=alone,
            actor=member,
            kind=ListingKind.OFFER,
            title="Training in cooperative governance",
            description="We train new cooperatives in democratic governance and bookkeeping.",
            themes=["training-advice"],
            scope=Scope.REGIONAL,
        )
        introduced = request_introduction(
            listing=partner_offer,
            requesting=need,
            actor=member,
            message=f"{NAME} here: we would love to work with your researchers.",
        )
        db.session.flush()
        approve_proposal(proposal=introduced, actor=coordinator, expected_version=None)
        respond(
            proposal=introduced,
            organisation=shared,
            actor=member,
            decision=ResponseDecision.ACCEPTED,
            message=f"Happy to meet. Write to {EMAIL}.",
        )
        respond(
            proposal=introduced,
            organisation=university,
            actor=university.memberships[0].user,
            decision=ResponseDecision.ACCEPTED,
        )
        record_outcome(
            proposal=introduced,
            organisation=shared,
            actor=member,
            kind=OutcomeKind.FIRST_MEETING,
            happened_on=date.today(),
            note=f"{NAME} met the research team.",
        )
        pending = Proposal(
            template="pair",
            score=60,
            explanation=[],
            fingerprint=f"pair:{partner_need.id}:{offer_alone.id}",
            parties=[
                ProposalParty(
                    organisation_id=university.id,
                    listing_id=partner_need.id,
                    role="need",
                    position=0,
                ),
                ProposalParty(
                    organisation_id=alone.id, listing_id=offer_alone.id, role="offer", position=1
                ),
            ],
        )
        db.session.add(pending)
    db.session.commit()
    return World(
        member=member,
        colleague=colleague,
        coordinator=coordinator,
        shared=shared,
        alone=alone,
        need=need,
        offer_alone=offer_alone,
        introduced=introduced,
        pending=pending,
    )
