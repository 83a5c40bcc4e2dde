"""A territorial coordinator sees and decides only what lies in their territory: the
verification and review queues, proposals (any party inside is enough), the dashboard, exports
and the audit trail; a coordinator without a territory sees everything. The URL map is walked so
that a new coordinator route cannot forget the rule."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask, g

from matchmaker.accounts.access_tokens import create_token
from matchmaker.accounts.models import Role, TokenScope, User
from matchmaker.announcements.models import (
    Announcement,
    AnnouncementKind,
    AnnouncementStatus,
    Audience,
)
from matchmaker.core.audit import record_event
from matchmaker.core.caching import GENERATION_KEY
from matchmaker.dashboard.services import TABLES as DASHBOARD_TABLES
from matchmaker.extensions import cache, db
from matchmaker.interchange.csv_tables import TABLES as EXPORT_TABLES
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.organisations.models import Organisation, OrganisationStatus
from matchmaker.proposals.models import Proposal, ProposalParty, ProposalStatus
from matchmaker.territories.services import all_territories, coverage_of
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in
from tests.territories.helpers import (
    athens_organisation,
    make_city_region,
    make_territorial_coordinator,
    make_territory,
)

# Words only the organisations outside Attica carry (names and region), to look for in pages.
OUTSIDE = "Outsidia"


@dataclass
class World:
    eleni: User  # coordinates Attica
    chris: User  # coordinates everything
    inside: Proposal  # both parties in Attica
    across: Proposal  # one party in Attica, one in Liverpool (not named Outsidia)
    outside: Proposal  # both parties in Liverpool, named Outsidia
    pending_inside: Organisation
    pending_outside: Organisation
    hidden_listing: Listing  # of the pending organisation outside
    ended_announcement: Announcement  # withdrawn, of an organisation outside


def _proposal(need: Listing, offer: Listing, fingerprint: str) -> Proposal:
    proposal = Proposal(template="pair", score=60, explanation=[], fingerprint=fingerprint)
    for position, listing in enumerate((need, offer)):
        proposal.parties.append(
            ProposalParty(
                organisation_id=listing.organisation_id,
                listing_id=listing.id,
                role="need" if position == 0 else "offer",
                position=position,
            )
        )
    db.session.add(proposal)
    db.session.commit()
    return proposal


@pytest.fixture
def world(app: Flask) -> World:
    attica = make_territory()
    athens_a = athens_organisation(name="Athens Kitchen Cooperative")
    athens_b = athens_organisation(name="Athens Research Centre")
    outside_a = make_organisation(name=f"{OUTSIDE} Bakers", region=OUTSIDE)
    outside_b = make_organisation(name=f"{OUTSIDE} University", region=OUTSIDE)
    need_a = make_listing(organisation=athens_a, title="Kitchens for training in Athens")
    offer_b = make_listing(organisation=athens_b, kind=ListingKind.OFFER)
    need_outside = make_listing(organisation=outside_a, title=f"{OUTSIDE} ovens wanted")
    offer_outside = make_listing(organisation=outside_b, kind=ListingKind.OFFER)
    partner = make_organisation(name="Liverpool Partner Network")
    offer_partner = make_listing(organisation=partner, kind=ListingKind.OFFER)
    pending_outside = make_organisation(
        name=f"{OUTSIDE} Newcomers", region=OUTSIDE, status=OrganisationStatus.PENDING
    )
    world = World(
        eleni=make_territorial_coordinator(attica),
        chris=make_user(role=Role.COORDINATOR),
        inside=_proposal(need_a, offer_b, "pair:inside"),
        across=_proposal(need_a, offer_partner, "pair:across"),
        outside=_proposal(need_outside, offer_outside, "pair:outside"),
        pending_inside=athens_organisation(
            name="Athens Newcomers", status=OrganisationStatus.PENDING
        ),
        pending_outside=pending_outside,
        hidden_listing=make_listing(organisation=pending_outside, title=f"{OUTSIDE} hidden"),
        ended_announcement=withdrawn_announcement(outside_a),
    )
    record_event("proposal:cover", actor=None, subject=world.outside)
    record_event("organisation:update", actor=None, subject=pending_outside)
    db.session.commit()
    return world


def withdrawn_announcement(organisation: Organisation) -> Announcement:
    author = organisation.memberships[0].user
    announcement = Announcement(
        author=author,
        organisation=organisation,
        kind=AnnouncementKind.EVENT,
        audience=Audience.EVERYONE,
        title=f"{OUTSIDE} fair",
        body="A fair that was called off, kept for its author and coordinators.",
        ends_on=date.today() + timedelta(days=5),
        country=organisation.country,
        status=AnnouncementStatus.WITHDRAWN,
    )
    db.session.add(announcement)
    db.session.commit()
    return announcement


def _links(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/proposals/(\d+)"', page)}


REVIEW_COUNT = re.compile(r'href="/coordination/proposals">[^<]*<span class="count"[^>]*>(\d+)<')


def test_the_review_queue_holds_the_proposals_with_a_party_inside(app: Flask, world: World) -> None:
    eleni, chris = signed_in(app, world.eleni), signed_in(app, world.chris)
    assert _links(eleni.get("/coordination/proposals").get_data(as_text=True)) == {
        world.inside.id,
        world.across.id,
    }
    assert _links(chris.get("/coordination/proposals").get_data(as_text=True)) == {
        world.inside.id,
        world.across.id,
        world.outside.id,
    }
    # The menu counts what each of them can act on (Eleni reads Greek: Attica's language).
    review = REVIEW_COUNT
    eleni_page = eleni.get("/coordination/proposals").get_data(as_text=True)
    assert '<html lang="el"' in eleni_page
    assert review.findall(eleni_page) == ["2"]
    assert review.findall(chris.get("/coordination/proposals").get_data(as_text=True)) == ["3"]


def test_a_proposal_across_territories_needs_one_approval(app: Flask, world: World) -> None:
    lcr = make_city_region()
    liam = make_territorial_coordinator(lcr)
    eleni, liam_client = signed_in(app, world.eleni), signed_in(app, liam)
    assert world.across.id in _links(
        liam_client.get("/coordination/proposals").get_data(as_text=True)
    )
    assert REVIEW_COUNT.findall(eleni.get("/coordination/proposals").get_data(as_text=True)) == [
        "2"
    ]
    response = eleni.post(
        f"/coordination/proposals/{world.across.id}/approve",
        data={"approve-version": world.across.version},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, world.across.id).status == ProposalStatus.APPROVED
    # Gone from both queues: one approval decided it.
    for client in (eleni, liam_client):
        assert world.across.id not in _links(
            client.get("/coordination/proposals").get_data(as_text=True)
        )
    # And her menu counts what is left at once (the counts are kept between requests).
    page = eleni.get("/coordination/proposals").get_data(as_text=True)
    left = len(_links(page))
    assert left < 2
    assert REVIEW_COUNT.findall(page) == ([str(left)] if left else [])


def test_the_verification_queue_holds_the_territory_only(app: Flask, world: World) -> None:
    page = signed_in(app, world.eleni).get("/coordination/organisations").get_data(as_text=True)
    assert "Athens Newcomers" in page and OUTSIDE not in page
    page = signed_in(app, world.chris).get("/coordination/organisations").get_data(as_text=True)
    assert "Athens Newcomers" in page and f"{OUTSIDE} Newcomers" in page


def _list_pages() -> list[str]:
    """Every coordinator page without an object in its address (lists, dashboard, exports)."""
    return [
        "/coordination/organisations",
        "/coordination/proposals",
        "/coordination/dashboard",
        *(f"/coordination/dashboard/{name}.csv" for name in DASHBOARD_TABLES),
        "/coordination/data/export.json",
        *(f"/coordination/data/export/{table}.csv" for table in EXPORT_TABLES),
        "/coordination/audit",
    ]


def test_every_coordinator_list_leaves_out_what_lies_outside(app: Flask, world: World) -> None:
    eleni, chris = signed_in(app, world.eleni), signed_in(app, world.chris)
    listed = {rule.rule for rule in app.url_map.iter_rules() if not rule.arguments}
    coordination = {r for r in listed if r.startswith("/coordination/")}
    # Pages that list no organisation, listing or proposal (forms and the matcher's settings).
    unscoped = {
        "/coordination/data",
        "/coordination/data/import",
        "/coordination/matching",
        "/coordination/matching/run",
    }
    assert coordination - unscoped <= set(_list_pages()), "a new coordinator page: scope it"
    seen_by_chris = []
    for address in _list_pages():
        response = eleni.get(address)
        assert response.status_code == 200, address
        body = response.get_data(as_text=True)
        assert OUTSIDE not in body, address
        assert f'href="/proposals/{world.outside.id}"' not in body, address
        chris_body = chris.get(address).get_data(as_text=True)
        if OUTSIDE in chris_body or f'href="/proposals/{world.outside.id}"' in chris_body:
            seen_by_chris.append(address)
    # The untethered coordinator does see them: the lists above could have shown them.
    assert {
        "/coordination/organisations",
        "/coordination/proposals",
        "/coordination/dashboard",
        "/coordination/data/export.json",
        "/coordination/audit",
    } <= set(seen_by_chris)
    # Imports can create and verify organisations anywhere: not for a territorial coordinator.
    assert eleni.post("/coordination/data/import").status_code == 403


def _address(rule: Any, world: World) -> str | None:
    """``rule`` with the outside objects in its arguments; None when it takes other objects."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if name == "proposal_id":
            values[name] = world.outside.id
        elif name == "organisation_id":
            values[name] = world.pending_outside.id
        elif name == "listing_id":
            values[name] = world.hidden_listing.id
        elif name == "announcement_id":
            values[name] = world.ended_announcement.id
        elif hasattr(converter, "items"):  # any(...): its first choice
            values[name] = sorted(converter.items)[0]
        elif name in ("contact_id", "membership_id", "invitation_id"):
            values[name] = 1
        else:
            return None
    if not {"proposal_id", "organisation_id", "listing_id", "announcement_id"} & set(values):
        return None
    if rule.rule.startswith("/api/v1/me/"):
        # A member's own listings and proposals by token, whatever their role (tests/api):
        # their body is checked before the object is looked up.
        return None
    return str(rule.build(values, append_unknown=False)[1])


def test_a_territorial_coordinator_can_neither_see_nor_decide_outside(
    app: Flask, world: World
) -> None:
    eleni = signed_in(app, world.eleni)
    token = create_token(user=world.eleni, name="walk", scope=TokenScope.WRITE).secret
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    walked = set()
    for rule in app.url_map.iter_rules():
        address = _address(rule, world)
        if address is None:
            continue
        # Forms filled as a decision would be (CSRF is off here: only the territory stops it).
        kwargs: dict[str, Any] = (
            {
                "headers": headers,
                "json": {"version": 1}
                | ({"reason": "not_relevant"} if address.endswith("/reject") else {}),
            }
            if address.startswith("/api/")
            else {
                "data": {
                    "approve-version": "1",
                    "reject-version": "1",
                    "reject-reason": "not_relevant",
                    "reason": "Outside",
                }
            }
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = eleni.open(address, method=method, follow_redirects=True, **kwargs)
            assert response.status_code in (403, 404), f"{method} {address}: {response.status_code}"
            walked.add(rule.endpoint)
    db.session.expire_all()
    assert db.session.get(Proposal, world.outside.id).status == ProposalStatus.PENDING_REVIEW
    assert (
        db.session.get(Organisation, world.pending_outside.id).status == OrganisationStatus.PENDING
    )
    assert {
        "proposals.show",
        "proposals.approve",
        "proposals.reject",
        "organisations.verify",
        "organisations.reject",
        "organisations.show",
        "listings.show",
        "coordination.get_proposal",
        "coordination.approve_proposal",
        "coordination.reject_proposal",
        "announcements.show",
        "announcements.withdraw",
    } <= walked


def test_a_coordinator_without_territory_sees_and_decides_anywhere(
    app: Flask, world: World
) -> None:
    chris = signed_in(app, world.chris)
    assert chris.get(f"/proposals/{world.outside.id}").status_code == 200
    assert chris.get(f"/organisations/{world.pending_outside.id}").status_code == 200
    assert chris.get(f"/listings/{world.hidden_listing.id}").status_code == 200
    response = chris.post(f"/coordination/organisations/{world.pending_outside.id}/verify")
    assert response.status_code == 302
    db.session.expire_all()
    assert (
        db.session.get(Organisation, world.pending_outside.id).status == OrganisationStatus.VERIFIED
    )


def test_the_inside_and_across_proposals_are_the_territorial_coordinators(
    app: Flask, world: World
) -> None:
    eleni = signed_in(app, world.eleni)
    for proposal in (world.inside, world.across):
        page = eleni.get(f"/proposals/{proposal.id}").get_data(as_text=True)
        assert "approve" in page
    token = create_token(user=world.eleni, name="api", scope=TokenScope.READ).secret
    db.session.commit()
    body = eleni.get(
        "/api/v1/coordination/proposals", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert {item["id"] for item in body["items"]} == {world.inside.id, world.across.id}


def test_a_territory_list_older_than_the_appointment_never_widens_the_coverage(
    app: Flask,
) -> None:
    # The shared list of territories is built (a page reads it) before Attica exists; Attica
    # and its coordinator are then made, but the new data generation is lost (Redis unreachable
    # at that commit, or a request that began before it): the list read is the old one.
    assert all_territories() == []
    generation = cache.get(GENERATION_KEY)
    attica = make_territory()
    eleni = make_territorial_coordinator(attica)
    make_organisation(name=f"{OUTSIDE} Bakers", status=OrganisationStatus.PENDING)
    cache.set(GENERATION_KEY, generation, timeout=0)
    g.pop("data_generation", None)
    assert all_territories() == []  # the stale list
    coverage = coverage_of(eleni)
    assert not coverage.is_everything
    assert [t.slug for t in coverage.territories] == [attica.slug]
    queue = signed_in(app, eleni).get("/coordination/organisations")
    assert queue.status_code == 200 and OUTSIDE not in queue.get_data(as_text=True)
