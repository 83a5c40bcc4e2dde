"""The JSON API: public reads, members' listings and proposals with a token, the review queue
with a coordinator's token; errors as problem+json."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts import access_tokens
from matchmaker.accounts.models import Role, TokenScope, User
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, ListingStatus
from matchmaker.matching.engine import run_full
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from matchmaker.proposals.models import Proposal, ProposalParty, ProposalStatus
from tests.factories import PASSWORD, make_listing, make_organisation, make_user

PROBLEM = "application/problem+json"


def bearer(user: User, scope: TokenScope = TokenScope.WRITE) -> dict[str, str]:
    new = access_tokens.create_token(user=user, name=f"test {scope}", scope=scope)
    db.session.commit()
    return {"Authorization": f"Bearer {new.secret}"}


def _need(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "need",
        "title": "Evaluation of our programmes",
        "description": "We need researchers to evaluate our work-integration programmes.",
        "themes": ["research-evaluation", "knowledge-exchange"],
        "scope": "regional",
        **fields,
    }


# Public reads ------------------------------------------------------------------------------


def test_public_reads_show_only_verified_organisations_and_open_listings(
    client: FlaskClient,
) -> None:
    verified = make_organisation(name="Athens Social Enterprises")
    hidden = make_organisation(name="Pending Cooperative", status=OrganisationStatus.PENDING)
    open_need = make_listing(organisation=verified, title="Mentors for our incubator")
    make_listing(organisation=verified, title="A paused need", status=ListingStatus.PAUSED)
    make_listing(organisation=hidden, title="Need of a pending one")

    organisations = client.get("/api/v1/organisations").get_json()
    assert [o["name"] for o in organisations["items"]] == ["Athens Social Enterprises"]
    assert client.get(f"/api/v1/organisations/{hidden.id}").status_code == 404

    response = client.get("/api/v1/listings")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    listings = response.get_json()
    assert [item["title"] for item in listings["items"]] == ["Mentors for our incubator"]
    assert listings["items"][0]["organisation"]["id"] == verified.id
    assert listings["next_cursor"] is None
    one = client.get(f"/api/v1/listings/{open_need.id}").get_json()
    assert one["themes"] == ["social-inclusion"] and one["url"].endswith(
        f"/listings/{open_need.id}"
    )

    themes = client.get("/api/v1/themes").get_json()["items"]
    assert "research-evaluation" in {theme["slug"] for theme in themes}


def test_listings_search_and_filters_match_the_pages(client: FlaskClient) -> None:
    liverpool = make_organisation(country="GB", region="Liverpool City Region")
    athens = make_organisation(country="GR", region="Attica", city="Athens")
    make_listing(organisation=liverpool, title="Incubation support for cooperatives")
    make_listing(organisation=athens, title="Incubation of social enterprises")
    make_listing(organisation=athens, kind=ListingKind.OFFER, title="Training for mentors")

    def titles(query: str) -> list[str]:
        response = client.get(f"/api/v1/listings?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return sorted(item["title"] for item in response.get_json()["items"])

    assert titles("q=incubation") == [
        "Incubation of social enterprises",
        "Incubation support for cooperatives",
    ]
    assert titles("q=incubation&country=GR") == ["Incubation of social enterprises"]
    assert titles("kind=offer") == ["Training for mentors"]
    assert titles("q=nothingmatches") == []
    assert titles("q=%00incubation") == titles("q=incubation")


def test_cursor_pagination_walks_every_listing_once(client: FlaskClient) -> None:
    organisation = make_organisation()
    made = {make_listing(organisation=organisation).id for _ in range(7)}
    seen: list[int] = []
    cursor = ""
    for _ in range(10):
        page = client.get(f"/api/v1/listings?limit=3{cursor}").get_json()
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert sorted(seen) == sorted(made) and len(seen) == 7
    assert seen == sorted(seen, reverse=True)  # newest first

    searched = client.get("/api/v1/listings?q=listing&limit=5").get_json()
    rest = client.get(f"/api/v1/listings?q=listing&limit=5&cursor={searched['next_cursor']}")
    assert len(searched["items"]) + len(rest.get_json()["items"]) == 7


def test_deadline_order_pages_by_key_and_keeps_its_place_when_listings_arrive(
    client: FlaskClient,
) -> None:
    """Soonest deadline first, listings without one last; a listing posted while a client
    pages (here: one due sooner than the page it is on) neither repeats a row nor hides one."""
    organisation = make_organisation()
    soon = date.today() + timedelta(days=10)
    deadlines = [soon, soon, soon + timedelta(days=5), None, soon + timedelta(days=1), None]
    made = {
        make_listing(organisation=organisation, deadline=deadline).id: deadline
        for deadline in deadlines
    }
    db.session.commit()

    first = client.get("/api/v1/listings?sort=deadline&limit=3").get_json()
    seen = [item["id"] for item in first["items"]]
    make_listing(organisation=organisation, deadline=soon)  # sorts before the cursor
    db.session.commit()
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/listings?sort=deadline&limit=3&cursor={cursor}").get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]

    assert sorted(seen) == sorted(made)
    last = date.max
    assert [made[i] or last for i in seen] == sorted(made[i] or last for i in made)
    assert [made[i] for i in seen][-2:] == [None, None]


def test_bad_input_is_a_problem_naming_the_field(client: FlaskClient) -> None:
    response = client.get("/api/v1/listings?scope=galactic&limit=0")
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert {error["field"] for error in body["errors"]} == {"scope", "limit"}
    assert body["status"] == 422 and body["title"] == "Unprocessable Entity"

    bad_cursor = client.get("/api/v1/listings?cursor=not-a-cursor")
    assert bad_cursor.status_code == 422
    assert bad_cursor.get_json()["errors"][0]["field"] == "cursor"

    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.content_type == PROBLEM
    # The site's pages keep their HTML errors.
    assert "text/html" in client.get("/nothing-here").content_type


@pytest.mark.parametrize(
    "body",
    [b"{", b"[" * 5_000 + b"]" * 5_000, b'{"title": ' + b"9" * 5_000 + b"}"],
    ids=["cut short", "nested too deep", "a number of 5,000 digits"],
)
def test_a_body_that_is_not_readable_json_is_a_bad_request(
    client: FlaskClient, body: bytes
) -> None:
    """Python's JSON reader fails on the last two with RecursionError and ValueError, which
    webargs did not catch: a 500 on every operation that takes a body."""
    member = make_user()
    organisation = make_organisation(owner=member)
    listing = make_listing(organisation=organisation)
    headers = bearer(member)
    for method, path in (
        ("POST", "/api/v1/me/listings"),
        ("PATCH", f"/api/v1/me/listings/{listing.id}"),
    ):
        response = client.open(
            path, method=method, data=body, content_type="application/json", headers=headers
        )
        assert response.status_code == 400, (method, path)
        assert response.content_type == PROBLEM
    assert db.session.get(Listing, listing.id).title == listing.title


def test_the_openapi_document_is_3_1_and_describes_every_operation(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert {"/api/v1/listings", "/api/v1/me/listings", "/api/v1/coordination/proposals"} <= set(
        document["paths"]
    )
    create = document["paths"]["/api/v1/me/listings"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert "title" in document["components"]["schemas"]["ListingInput"]["required"]
    assert "security" not in document["paths"]["/api/v1/listings"]["get"]
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in docs and "//cdn" not in docs


# Tokens ------------------------------------------------------------------------------------


def test_member_endpoints_need_a_token_and_ignore_the_session(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    make_organisation(owner=user)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    # Signed in with a session cookie: still refused, so a cross-site form cannot post here.
    response = client.post("/api/v1/me/listings", json=_need())
    assert response.status_code == 401 and response.content_type == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Access-Control-Allow-Origin" not in response.headers
    wrong = client.get("/api/v1/me/listings", headers={"Authorization": "Bearer mm_wrong"})
    assert wrong.status_code == 401

    read_only = bearer(user, TokenScope.READ)
    mine = client.get("/api/v1/me/listings", headers=read_only)
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "no-store"
    refused = client.post("/api/v1/me/listings", json=_need(), headers=read_only)
    assert refused.status_code == 403 and "only read" in refused.get_json()["detail"]

    revoked = bearer(user)
    token = db.session.scalars(
        sa.select(access_tokens.AccessToken).order_by(access_tokens.AccessToken.id.desc())
    ).first()
    access_tokens.revoke_token(user=user, token=token)
    db.session.commit()
    assert client.get("/api/v1/me/listings", headers=revoked).status_code == 401


# Members' listings -------------------------------------------------------------------------


def test_a_member_posts_edits_and_closes_a_listing_and_the_matcher_answers(
    client: FlaskClient,
) -> None:
    user = make_user()
    network = make_organisation(owner=user, name="Social Enterprise Network")
    university = make_organisation(
        name="University of Liverpool", kind=OrganisationKind.ACADEMIC_INSTITUTION
    )
    make_listing(
        organisation=university,
        kind=ListingKind.OFFER,
        themes=("research-evaluation", "knowledge-exchange"),
        title="Research and evaluation",
        description="We evaluate programmes of social enterprises and networks.",
    )
    headers = bearer(user)

    response = client.post(
        "/api/v1/me/listings", json=_need(organisation_id=network.id), headers=headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    listing = db.session.get(Listing, created["id"])
    assert listing.created_by_id == user.id and listing.organisation_id == network.id
    # The same matching as the form: a proposal pairs the new need with the university's offer.
    pending = db.session.scalars(
        sa.select(Proposal).join(ProposalParty).where(ProposalParty.listing_id == listing.id)
    ).all()
    assert [p.status for p in pending] == [ProposalStatus.PENDING_REVIEW]

    edited = client.patch(
        f"/api/v1/me/listings/{listing.id}", json={"scope": "national"}, headers=headers
    )
    assert edited.status_code == 200 and edited.get_json()["scope"] == "national"
    assert edited.get_json()["title"] == "Evaluation of our programmes"

    closed = client.post(f"/api/v1/me/listings/{listing.id}/close", headers=headers)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    db.session.expire_all()
    assert pending[0].status == ProposalStatus.WITHDRAWN
    again = client.post(f"/api/v1/me/listings/{listing.id}/close", headers=headers)
    assert again.status_code == 409 and again.content_type == PROBLEM
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.subject_id == listing.id)
    ).all()
    assert {"need:create", "need:update", "need:close"} <= set(actions)


def test_listing_validation_is_the_forms_with_the_failing_field(client: FlaskClient) -> None:
    user = make_user()
    network = make_organisation(owner=user)
    headers = bearer(user)

    def error_fields(**fields: Any) -> set[str]:
        response = client.post(
            "/api/v1/me/listings", json=_need(organisation_id=network.id, **fields), headers=headers
        )
        assert response.status_code == 422, response.get_data(as_text=True)
        assert response.content_type == PROBLEM
        return {error["field"] for error in response.get_json()["errors"]}

    assert error_fields(title="Hi") == {"title"}
    assert error_fields(title="Two\nlines of title") == {"title"}
    assert error_fields(themes=["no-such-theme"]) == {"themes"}
    assert error_fields(themes=["a", "b", "c", "d"]) == {"themes"}
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert error_fields(expires_on=yesterday) == {"expires_on"}
    assert error_fields(surprise=1) == {"surprise"}
    # A challenge needs a public agency: this is an SSE organisation.
    challenge = client.post(
        "/api/v1/me/listings",
        json=_need(
            organisation_id=network.id,
            kind="challenge",
            deadline=(date.today() + timedelta(days=30)).isoformat(),
            sought_kinds=["academic_institution"],
        ),
        headers=headers,
    )
    assert challenge.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Listing.id))) == 0


def test_a_challenge_is_patched_without_its_deadline(client: FlaskClient) -> None:
    """A PATCH that leaves the deadline out keeps it: it was refused (422, "A challenge needs a
    deadline"), as every edit of a challenge that kept its deadline was."""
    officer = make_user()
    agency = make_organisation(owner=officer, kind=OrganisationKind.PUBLIC_AGENCY)
    challenge = make_listing(organisation=agency, kind=ListingKind.CHALLENGE)
    deadline = challenge.deadline
    response = client.patch(
        f"/api/v1/me/listings/{challenge.id}",
        json={"title": "A clearer title for the challenge"},
        headers=bearer(officer),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["deadline"] == deadline.isoformat()
    db.session.expire_all()
    assert challenge.title == "A clearer title for the challenge"


def test_members_reach_only_their_own_organisations_listings(client: FlaskClient) -> None:
    user, stranger = make_user(), make_user()
    mine = make_listing(organisation=make_organisation(owner=user))
    theirs = make_listing(organisation=make_organisation(owner=stranger))
    headers = bearer(user)
    assert [
        i["id"] for i in client.get("/api/v1/me/listings", headers=headers).get_json()["items"]
    ] == [mine.id]
    assert client.get(f"/api/v1/me/listings/{theirs.id}", headers=headers).status_code == 404
    assert (
        client.patch(
            f"/api/v1/me/listings/{theirs.id}", json={"title": "Taken over"}, headers=headers
        ).status_code
        == 404
    )
    other_org = client.post(
        "/api/v1/me/listings",
        json=_need(organisation_id=theirs.organisation_id),
        headers=headers,
    )
    assert other_org.status_code == 403


# Proposals and the review queue ------------------------------------------------------------


@pytest.fixture
def introduced(app: Flask) -> dict[str, Any]:
    owner = make_user()
    uni_owner = make_user()
    network = make_organisation(
        owner=owner,
        name="Social Enterprise Network",
        contacts=[{"name": "Rosie Jolly", "position": "Chief Executive", "email": "r@example.org"}],
    )
    university = make_organisation(
        owner=uni_owner, name="University", kind=OrganisationKind.ACADEMIC_INSTITUTION
    )
    make_listing(
        organisation=network,
        themes=("research-evaluation", "knowledge-exchange"),
        title="Evaluation of our programmes",
        description="We need researchers to evaluate our programmes.",
    )
    make_listing(
        organisation=university,
        kind=ListingKind.OFFER,
        themes=("research-evaluation", "knowledge-exchange"),
        title="Research and evaluation",
        description="We evaluate programmes.",
    )
    run_full()
    db.session.commit()
    proposal = db.session.scalar(sa.select(Proposal))
    return {
        "proposal": proposal,
        "owner": owner,
        "uni_owner": uni_owner,
        "network": network,
        "university": university,
        "coordinator": make_user(role=Role.COORDINATOR),
    }


def test_coordinators_decide_with_the_version_they_read(
    client: FlaskClient, introduced: dict[str, Any]
) -> None:
    proposal = introduced["proposal"]
    member = bearer(introduced["owner"])
    assert client.get("/api/v1/coordination/proposals", headers=member).status_code == 403
    # Parties do not see a proposal before a coordinator approves it.
    assert client.get(f"/api/v1/me/proposals/{proposal.id}", headers=member).status_code == 404

    coordinator = bearer(introduced["coordinator"])
    queue = client.get("/api/v1/coordination/proposals", headers=coordinator).get_json()
    [item] = queue["items"]
    assert item["id"] == proposal.id and item["explanation"]

    approve = f"/api/v1/coordination/proposals/{proposal.id}/approve"
    stale = client.post(approve, json={"version": item["version"] + 1}, headers=coordinator)
    assert stale.status_code == 409 and stale.content_type == PROBLEM
    approved = client.post(approve, json={"version": item["version"]}, headers=coordinator)
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    second = client.post(approve, json={"version": item["version"]}, headers=coordinator)
    assert second.status_code == 409
    assert "already decided" in second.get_json()["detail"]
    read_only = bearer(introduced["coordinator"], TokenScope.READ)
    reject = client.post(
        f"/api/v1/coordination/proposals/{proposal.id}/reject",
        json={"version": 1, "reason": "not_relevant"},
        headers=read_only,
    )
    assert reject.status_code == 403


def test_parties_read_accept_and_decline_introductions(
    app: Flask, client: FlaskClient, introduced: dict[str, Any]
) -> None:
    from matchmaker.proposals.services import approve_proposal

    proposal = introduced["proposal"]
    with app.test_request_context():
        approve_proposal(proposal=proposal, actor=introduced["coordinator"], expected_version=None)
        db.session.commit()
    network, university = introduced["network"], introduced["university"]
    owner, uni_owner = bearer(introduced["owner"]), bearer(introduced["uni_owner"])

    mine = client.get("/api/v1/me/proposals", headers=owner).get_json()["items"]
    assert [p["id"] for p in mine] == [proposal.id]
    assert mine[0]["awaiting_answer_from"] == [network.id] and mine[0]["contacts"] == []

    base = f"/api/v1/me/proposals/{proposal.id}/organisations"
    # Answering for an organisation one is not a member of.
    assert client.post(f"{base}/{university.id}/accept", json={}, headers=owner).status_code == 404
    accepted = client.post(f"{base}/{network.id}/accept", json={}, headers=owner)
    assert accepted.status_code == 200 and accepted.get_json()["awaiting_answer_from"] == []
    twice = client.post(f"{base}/{network.id}/accept", json={}, headers=owner)
    assert twice.status_code == 409

    no_reason = client.post(f"{base}/{university.id}/decline", json={}, headers=uni_owner)
    assert no_reason.status_code == 422
    assert no_reason.get_json()["errors"][0]["field"] == "message"
    agreed = client.post(f"{base}/{university.id}/accept", json={}, headers=uni_owner)
    body = agreed.get_json()
    assert body["status"] == "agreed"
    assert [c["name"] for c in body["contacts"]] == ["Rosie Jolly"]


def test_links_in_answers_use_the_sites_address_not_the_host_asked_for(
    app: Flask, client: FlaskClient
) -> None:
    """The items' ``url`` was built from the Host header: any client could have the answer name
    another site (a cache keyed without the host would hand it on), where mail and Murmurations
    profiles use the configured address."""
    organisation = make_organisation()
    listing = make_listing(organisation=organisation)
    base = app.config["MATCHMAKER_BASE_URL"]
    one = client.get(f"/api/v1/listings/{listing.id}", base_url="http://evil.example").get_json()
    assert one["url"] == f"{base}/listings/{listing.id}"
    other = client.get(
        f"/api/v1/organisations/{organisation.id}", base_url="http://evil.example"
    ).get_json()
    assert other["url"] == f"{base}/organisations/{organisation.id}"
