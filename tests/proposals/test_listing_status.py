"""A listing's owners see what the matcher did for it, and why nothing when nothing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, Scope
from matchmaker.matching import settings as matching_settings
from matchmaker.matching.engine import run_full
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import Proposal, ProposalStatus, RejectionReason
from matchmaker.proposals.services import approve_proposal, reject_proposal
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in

NEED = {
    "title": "Evaluation of our work-integration programme",
    "description": "We need researchers to evaluate the social impact of our programme.",
    "themes": ["research-evaluation"],
    "scope": "regional",
    "expires_on": "",
}


@pytest.fixture
def poster() -> Any:
    return make_user(email="poster@example.org")


@pytest.fixture
def network(poster: Any) -> Any:
    return make_organisation(name="Social Enterprise Network", owner=poster)


def _university(**fields: Any) -> Any:
    values: dict[str, Any] = {
        "name": "Secret University",
        "kind": OrganisationKind.ACADEMIC_INSTITUTION,
    }
    values.update(fields)
    return make_organisation(**values)


def _offer(organisation: Any, **fields: Any) -> Listing:
    values: dict[str, Any] = {
        "kind": ListingKind.OFFER,
        "themes": ("research-evaluation",),
        "title": "Research and evaluation of social programmes",
        "description": "We evaluate the social impact of programmes with researchers.",
    }
    values.update(fields)
    return make_listing(organisation=organisation, **values)


def _post(client: FlaskClient, network: Any, **change: Any) -> str:
    response = client.post(
        f"/organisations/{network.id}/listings/new/need", data={**NEED, **change}
    )
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_poster_sees_partners_found_right_after_posting(
    app: Flask, poster: Any, network: Any
) -> None:
    _offer(_university())
    page = _post(signed_in(app, poster), network)
    assert "1 possible partner found, waiting for a coordinator." in page
    # The other party is not named before a coordinator approved the proposal.
    assert "Secret University" not in page


def test_other_members_do_not_see_the_matching_status(app: Flask, network: Any) -> None:
    listing = make_listing(organisation=network, themes=("research-evaluation",))
    _offer(_university())
    run_full()
    db.session.commit()
    page = signed_in(app, make_user()).get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "waiting for a coordinator" not in page and "No partner proposed yet" not in page


def test_no_listing_on_these_themes(app: Flask, poster: Any, network: Any) -> None:
    _offer(_university(), themes=("basic-needs",))
    page = _post(signed_in(app, poster), network)
    assert "No partner proposed yet." in page
    assert "No open listing of another verified organisation shares these themes yet." in page


def test_candidates_beyond_the_scope_are_suggested(app: Flask, poster: Any, network: Any) -> None:
    far = _offer(
        _university(city="Athens", region="Attica", country="GR"),
        title="Impact evaluation in Athens",
        scope=Scope.REGIONAL,
    )
    page = _post(signed_in(app, poster), network)
    assert "1 open listing shares these themes, but none within the scope of both listings." in page
    assert f'href="/listings/{far.id}"' in page and "Impact evaluation in Athens" in page


def test_candidates_below_the_minimum_score(app: Flask, poster: Any, network: Any) -> None:
    _offer(_university())
    matching_settings.save_settings(
        settings=matching_settings.MatchSettings.of(min_score=100),
        actor=make_user(role=Role.ADMIN),
    )
    db.session.commit()
    page = _post(signed_in(app, poster), network)
    assert (
        "1 open listing within the scope shares these themes, but scored below the minimum "
        "score (100; best" in page
    )


def test_rejected_pair_is_explained_and_not_counted(app: Flask, poster: Any, network: Any) -> None:
    listing = make_listing(organisation=network, themes=("research-evaluation",))
    _offer(_university())
    run_full()
    proposal = db.session.scalar(sa.select(Proposal))
    reject_proposal(
        proposal=proposal,
        actor=make_user(role=Role.COORDINATOR),
        reason=RejectionReason.NOT_RELEVANT,
        expected_version=None,
    )
    db.session.commit()
    page = signed_in(app, poster).get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "Partners qualify, but were already proposed, or rejected or declined before." in page
    assert "Rejected" not in page


def test_statuses_and_covered_by(app: Flask, poster: Any, network: Any) -> None:
    listing = make_listing(organisation=network, themes=("research-evaluation",))
    _offer(_university())
    _offer(_university(name="Other University"))
    run_full()
    db.session.commit()
    first, second = db.session.scalars(sa.select(Proposal).order_by(Proposal.id)).all()
    with app.test_request_context():
        approve_proposal(
            proposal=first, actor=make_user(role=Role.COORDINATOR), expected_version=None
        )
    db.session.commit()
    assert second.status == ProposalStatus.COVERED
    page = signed_in(app, poster).get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "2 proposals made for this listing in all." in page
    assert "badge-approved" in page and "badge-covered" in page
    assert f"Covered by proposal #{first.id}." in page


def test_my_proposals_counts_pending_without_naming_the_parties(
    app: Flask, poster: Any, network: Any
) -> None:
    listing = make_listing(
        organisation=network, title="Our evaluation need", themes=("research-evaluation",)
    )
    _offer(_university())
    run_full()
    db.session.commit()
    client = signed_in(app, poster)
    page = client.get("/my/proposals").get_data(as_text=True)
    assert "Our evaluation need" in page
    assert "1 possible partner found, waiting for a coordinator." in page
    assert "Secret University" not in page
    proposal = db.session.scalar(sa.select(Proposal))
    with app.test_request_context():
        approve_proposal(
            proposal=proposal, actor=make_user(role=Role.COORDINATOR), expected_version=None
        )
    db.session.commit()
    page = client.get("/my/proposals").get_data(as_text=True)
    assert "Secret University" in page  # introduced: now named
    assert f'href="/listings/{listing.id}"' in page


def test_my_proposals_counts_in_one_query_whatever_the_listings(
    app: Flask, poster: Any, network: Any
) -> None:
    client = signed_in(app, poster)

    def queries() -> int:
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/my/proposals").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    make_listing(organisation=network, themes=("research-evaluation",))
    make_organisation(owner=poster)  # the same memberships' count, listings aside
    few = queries()
    for _ in range(4):
        other = make_organisation(owner=poster)
        make_listing(organisation=other, themes=("research-evaluation",))
    assert queries() == few
