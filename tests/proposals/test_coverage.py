"""No overlapping introductions: approving a proposal takes the pending proposals it overlaps
out of the queue; they come back if a party declines it, and the matcher does not propose
them, or others like them, again meanwhile."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching.engine import match_listing, run_full
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.concurrency import one_then_the_other
from tests.conftest import is_postgres
from tests.factories import PASSWORD, make_listing, make_organisation, make_user

THEMES = ("research-evaluation", "knowledge-exchange")
postgres_only = pytest.mark.skipif(not is_postgres(), reason="needs real concurrent transactions")


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """A network's need (N), a city's need (P), two universities' offers (A, B): the pairs
    N+A, N+B, P+A, P+B and the Liverpool triads network + university + city."""
    people = {name: make_user(email=f"{name}@example.org") for name in ("net", "city", "a", "b")}
    network = make_organisation(name="Network", owner=people["net"])
    city = make_organisation(name="City", kind=OrganisationKind.PUBLIC_AGENCY, owner=people["city"])
    uni_a = make_organisation(
        name="University A", kind=OrganisationKind.ACADEMIC_INSTITUTION, owner=people["a"]
    )
    uni_b = make_organisation(
        name="University B", kind=OrganisationKind.ACADEMIC_INSTITUTION, owner=people["b"]
    )
    text = "Evaluate social enterprise programmes with research and knowledge exchange."
    offer = ListingKind.OFFER
    listings = {
        "N": make_listing(organisation=network, themes=THEMES, description=text),
        "P": make_listing(organisation=city, themes=THEMES, description=text),
        "A": make_listing(organisation=uni_a, kind=offer, themes=THEMES, description=text),
        "B": make_listing(organisation=uni_b, kind=offer, themes=THEMES, description=text),
    }
    run_full()
    db.session.commit()
    return {
        "listings": listings,
        "people": people,
        "organisations": {"N": network, "P": city, "A": uni_a, "B": uni_b},
        "coordinator": make_user(role=Role.COORDINATOR),
    }


def _proposal(world: dict[str, Any], *names: str) -> Proposal:
    ids = sorted(world["listings"][name].id for name in names)
    for proposal in db.session.scalars(sa.select(Proposal)):
        if proposal.listing_ids == ids:
            return proposal
    raise AssertionError(f"no proposal of {names}")


def _statuses(world: dict[str, Any]) -> dict[str, ProposalStatus]:
    by_id = {listing.id: name for name, listing in world["listings"].items()}
    db.session.expire_all()
    return {
        "+".join(sorted(by_id[i] for i in p.listing_ids)): p.status
        for p in db.session.scalars(sa.select(Proposal))
    }


def _as(app: Flask, user: Any) -> FlaskClient:
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    return client


def _approve(app: Flask, world: dict[str, Any], proposal: Proposal) -> Any:
    return _as(app, world["coordinator"]).post(
        f"/coordination/proposals/{proposal.id}/approve",
        data={"approve-version": proposal.version},
        follow_redirects=True,
    )


def _decline(app: Flask, world: dict[str, Any], proposal: Proposal, party: str) -> None:
    organisation = world["organisations"][party]
    user = world["people"][{"N": "net", "P": "city", "A": "a", "B": "b"}[party]]
    response = _as(app, user).post(
        f"/proposals/{proposal.id}/organisations/{organisation.id}/decline",
        data={f"r{organisation.id}-message": "We already work with someone else."},
    )
    assert response.status_code == 302


def test_the_world_has_pairs_and_triads(world: dict[str, Any]) -> None:
    statuses = _statuses(world)
    assert {"A+N", "B+N", "A+P", "B+P", "A+N+P", "B+N+P"} <= set(statuses)
    assert set(statuses.values()) == {ProposalStatus.PENDING_REVIEW}


def test_approving_covers_same_anchor_and_subsets_and_says_so(
    app: Flask, world: dict[str, Any]
) -> None:
    triad = _proposal(world, "N", "A", "P")
    page = _approve(app, world, triad).get_data(as_text=True)
    assert "overlapping proposals left the queue" in page
    statuses = _statuses(world)
    # Same anchor (the network's need): every proposal built around it; subsets: P+A.
    for name in ("A+N", "B+N", "B+N+P", "A+P"):
        assert statuses[name] == ProposalStatus.COVERED, name
    assert statuses["B+P"] == ProposalStatus.PENDING_REVIEW  # overlaps in one listing only
    queue = _as(app, world["coordinator"]).get("/coordination/proposals").get_data(as_text=True)
    assert "1 proposal waits for review" in queue
    covered = _proposal(world, "N", "B")
    assert covered.covered_by == triad
    shown = _as(app, world["coordinator"]).get(f"/proposals/{covered.id}").get_data(as_text=True)
    assert "Covered by proposal" in shown
    assert f'<a href="/proposals/{triad.id}">#{triad.id}</a>' in shown
    assert db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "proposal:cover", AuditEvent.subject_id == covered.id
        )
    ).details == {"by": triad.id}


def test_a_pair_covers_the_triads_that_contain_it_not_another_anchor(
    app: Flask, world: dict[str, Any]
) -> None:
    _approve(app, world, _proposal(world, "P", "A"))
    statuses = _statuses(world)
    assert statuses["A+N+P"] == ProposalStatus.COVERED  # a superset
    assert statuses["B+P"] == ProposalStatus.COVERED  # the same anchor: the city's need
    assert statuses["A+N"] == ProposalStatus.PENDING_REVIEW  # another need, not a subset
    assert statuses["B+N+P"] == ProposalStatus.PENDING_REVIEW  # the network's need comes first


def test_covered_proposals_come_back_when_a_party_declines(
    app: Flask, world: dict[str, Any]
) -> None:
    pair = _proposal(world, "N", "A")
    _approve(app, world, pair)
    assert _statuses(world)["B+N"] == ProposalStatus.COVERED
    _decline(app, world, pair, "A")
    statuses = _statuses(world)
    assert statuses["A+N"] == ProposalStatus.DECLINED
    for name in ("B+N", "B+N+P"):
        assert statuses[name] == ProposalStatus.PENDING_REVIEW, name
    # The triad holds the declined pair: it does not come back.
    assert statuses["A+N+P"] == ProposalStatus.WITHDRAWN
    restored = _proposal(world, "N", "B")
    assert restored.covered_by is None
    assert db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "proposal:uncover", AuditEvent.subject_id == restored.id
        )
    ).details == {"declined": pair.id}
    # A full run keeps the restored ones in the queue and does not revive the triad.
    run_full()
    db.session.commit()
    assert _statuses(world) == statuses


def test_covered_proposals_come_back_when_an_introduced_partys_organisation_closes(
    app: Flask, world: dict[str, Any]
) -> None:
    """The network closes while its triad waits for answers: the introduction ends withdrawn
    and what it covered comes back as when a party declines, but the city and University A,
    whom nobody turned down, may still be proposed to one another."""
    from matchmaker.privacy.erasure import ORGANISATION_CLOSED

    triad = _proposal(world, "N", "A", "P")
    _approve(app, world, triad)
    assert _statuses(world)["A+P"] == ProposalStatus.COVERED
    network = world["organisations"]["N"]
    response = _as(app, world["people"]["net"]).post(
        f"/organisations/{network.id}/close", data={"password": PASSWORD}
    )
    assert response.status_code == 302
    statuses = _statuses(world)
    assert statuses["A+N+P"] == ProposalStatus.WITHDRAWN
    assert statuses["A+P"] == ProposalStatus.PENDING_REVIEW  # declined, it would never return
    assert statuses["B+P"] == ProposalStatus.PENDING_REVIEW
    for name in ("A+N", "B+N", "B+N+P"):  # the network's listing closed with it
        assert statuses[name] == ProposalStatus.WITHDRAWN, name
        assert _proposal(world, *name.split("+")).withdrawn_reason == ORGANISATION_CLOSED
    restored = _proposal(world, "A", "P")
    assert restored.covered_by is None
    assert db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "proposal:uncover", AuditEvent.subject_id == restored.id
        )
    ).details == {"withdrawn": triad.id}
    run_full()
    db.session.commit()
    assert _statuses(world) == statuses


def test_what_another_introduction_still_covers_stays_covered(
    app: Flask, world: dict[str, Any]
) -> None:
    first, second = _proposal(world, "N", "A"), _proposal(world, "P", "B")
    _approve(app, world, first)
    _approve(app, world, second)  # overlaps no pending proposal; B+N+P contains it
    triad = _proposal(world, "N", "B", "P")
    assert triad.covered_by == first
    _decline(app, world, first, "N")
    db.session.expire_all()
    assert triad.status == ProposalStatus.COVERED
    assert triad.covered_by == second  # a superset of P+B, still introduced
    assert _statuses(world)["B+N"] == ProposalStatus.PENDING_REVIEW


def test_rejecting_covers_nothing(app: Flask, world: dict[str, Any]) -> None:
    pair = _proposal(world, "N", "A")
    response = _as(app, world["coordinator"]).post(
        f"/coordination/proposals/{pair.id}/reject",
        data={"reject-version": pair.version, "reject-reason": "not_relevant"},
    )
    assert response.status_code == 302
    statuses = _statuses(world)
    assert statuses["A+N"] == ProposalStatus.REJECTED
    assert statuses["B+N"] == ProposalStatus.PENDING_REVIEW


def test_the_matcher_does_not_propose_what_an_introduction_covers(
    app: Flask, world: dict[str, Any]
) -> None:
    pair = _proposal(world, "N", "A")
    _approve(app, world, pair)
    before = _statuses(world)
    run_full()
    db.session.commit()
    assert _statuses(world) == before  # covered ones are not proposed again as new
    # A new offer for the network's need: no new pair around it (same anchor) while the
    # introduction is live, from an incremental run or a full one; its pair with the city's
    # need is proposed.
    uni_c = make_organisation(name="University C", kind=OrganisationKind.ACADEMIC_INSTITUTION)
    offer = make_listing(
        organisation=uni_c,
        kind=ListingKind.OFFER,
        themes=THEMES,
        description="Evaluate social enterprise programmes with research and knowledge exchange.",
    )
    match_listing(offer)
    run_full()
    db.session.commit()
    with_offer = [p for p in db.session.scalars(sa.select(Proposal)) if offer.id in p.listing_ids]
    network_need = world["listings"]["N"].id
    assert with_offer, "the new offer meets the city's need"
    assert all(network_need not in p.listing_ids for p in with_offer)
    # Once declined, the network's need is open to new partners again.
    _decline(app, world, pair, "N")
    match_listing(offer)
    db.session.commit()
    assert any(
        network_need in p.listing_ids
        for p in db.session.scalars(sa.select(Proposal))
        if offer.id in p.listing_ids
    )


def _decide(client: FlaskClient, proposal: Proposal) -> Any:
    return client.post(
        f"/coordination/proposals/{proposal.id}/approve",
        data={"approve-version": proposal.version},
    )


@postgres_only
def test_two_overlapping_proposals_approved_at_once_one_is_introduced(
    app: Flask, world: dict[str, Any]
) -> None:
    """Each approval wrote its own proposal, then the other's (to cover it): a deadlock,
    and a server error for one of the coordinators."""
    first_proposal = _proposal(world, "N", "A")
    second_proposal = _proposal(world, "N", "B")
    ann, sam = (_as(app, world["coordinator"]) for _ in range(2))
    first, second = one_then_the_other(
        "after_flush", lambda: _decide(ann, first_proposal), lambda: _decide(sam, second_proposal)
    )
    assert first.status_code == 302
    assert second.status_code == 303  # back to the proposal, told it is covered
    page = sam.get(second.headers["Location"]).get_data(as_text=True)
    assert "This proposal is covered by another proposal; it cannot be decided now." in page
    statuses = _statuses(world)
    assert (statuses["A+N"], statuses["B+N"]) == (ProposalStatus.APPROVED, ProposalStatus.COVERED)


def test_a_proposal_an_introduced_one_overlaps_is_not_introduced_too(
    app: Flask, world: dict[str, Any]
) -> None:
    """The matcher read the introduced proposals before a coordinator approved one, and
    wrote a pending proposal that it overlaps: approving that one too would introduce two
    overlapping proposals."""
    introduced = _proposal(world, "N", "A")
    other = _proposal(world, "N", "B")
    coordinator = _as(app, world["coordinator"])
    assert _decide(coordinator, introduced).status_code == 302
    # As the matcher's run, planned before that approval, writes it after.
    db.session.execute(sa.text("DELETE FROM proposal_covers"))
    db.session.execute(
        sa.update(Proposal).where(Proposal.id == other.id).values(status="pending_review")
    )
    db.session.commit()
    db.session.expire_all()
    response = _decide(coordinator, other)
    assert response.status_code == 303
    page = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        f"Proposal #{introduced.id}, which overlaps this one, is introduced already: this one "
        "cannot be introduced too." in page
    )
    statuses = _statuses(world)
    assert (statuses["A+N"], statuses["B+N"]) == (
        ProposalStatus.APPROVED,
        ProposalStatus.PENDING_REVIEW,
    )


@postgres_only
def test_an_incremental_run_holding_proposals_never_deadlocks_an_approval(
    app: Flask, world: dict[str, Any]
) -> None:
    """An incremental run applies several plans in one transaction (the listing's, then those
    of the listings its withdrawals freed), each locking its proposals in the order of their
    ids, but not after those of the plans before: holding a later proposal, it asked for an
    earlier one that an approval (which locks them in order) held while waiting for the later
    one. PostgreSQL broke the deadlock after a second by failing one of them: the
    coordinator's request (a server error) or the run."""
    import threading

    from matchmaker.matching import engine as matcher
    from tests.concurrency import waiting_for_a_lock

    approved = _proposal(world, "N", "A")
    held = sorted(
        p.id
        for p in db.session.scalars(sa.select(Proposal))
        if p.status == ProposalStatus.PENDING_REVIEW
        and p.id != approved.id
        and set(p.listing_ids) & set(approved.listing_ids)
    )
    assert len(held) >= 2
    earlier, later = held[0], held[-1]
    coordinator = _as(app, world["coordinator"])
    db.session.remove()
    answers: dict[str, Any] = {}
    approval = threading.Thread(
        target=lambda: answers.update(approval=_decide(coordinator, approved))
    )
    with app.app_context():
        matcher._lock_planned(matcher.Plan(withdraw=[(later, matcher.NOT_LIVE)]))
        approval.start()
        while not waiting_for_a_lock():  # the approval holds the earlier, waits for the later
            approval.join(0.02)
        try:
            # Busy: the run is tried again later, as when a full run holds the matcher.
            with pytest.raises(matcher.MatcherBusy):
                matcher._lock_planned(matcher.Plan(withdraw=[(earlier, matcher.NOT_LIVE)]))
        finally:
            db.session.rollback()
    approval.join(30)
    assert answers["approval"].status_code == 302
    assert _statuses(world)["A+N"] == ProposalStatus.APPROVED


def test_a_run_that_meets_a_held_proposal_stays_queued_to_try_again(
    app: Flask, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later plan meeting a proposal a person is deciding (ProposalsHeld) is a busy matcher:
    the job stays queued for its retry and the sweep, not failed with the listing unmatched."""
    from matchmaker.core.jobs import create_job
    from matchmaker.core.models import Job, JobStatus
    from matchmaker.matching import engine as matcher
    from matchmaker.matching.models import MatcherRun, RunStatus
    from matchmaker.matching.tasks import MATCH_LISTING, match_one

    monkeypatch.setattr("matchmaker.core.jobs.enqueue", lambda *_: None)
    job = create_job(MATCH_LISTING, subject_id=world["listings"]["N"].id)
    db.session.commit()

    def held(*_: Any) -> None:
        raise matcher.ProposalsHeld("held")

    monkeypatch.setattr(matcher, "_match_freed", held)
    assert match_one(job.id) is False
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == JobStatus.QUEUED  # type: ignore[union-attr]
    failed = sa.select(MatcherRun).where(MatcherRun.status == RunStatus.FAILED)
    assert db.session.scalars(failed).all() == []
