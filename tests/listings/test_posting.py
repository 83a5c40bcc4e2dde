from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, ListingStatus, Scope, Theme
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in

NEED = {
    "title": "Evaluation of our work-integration programme",
    "description": "We need researchers to evaluate the social impact of our programme.",
    "themes": ["research-evaluation", "work-integration"],
    "scope": "regional",
    "expires_on": "",
}


def _challenge(**change: Any) -> dict[str, Any]:
    data = {
        "title": "Active inclusion partnerships in Athens",
        "description": "Build local partnerships for people at high risk of poverty.",
        "themes": ["social-inclusion"],
        "scope": "local",
        "sought_kinds": ["sse_organisation", "academic_institution"],
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
    }
    data.update(change)
    return data


@pytest.fixture
def member() -> Any:
    return make_user()


@pytest.fixture
def organisation(member: Any) -> Any:
    return make_organisation(owner=member)


def test_member_posts_a_need_and_sees_its_page(
    client: FlaskClient, login: Any, member: Any, organisation: Any
) -> None:
    login(member)
    response = client.post(f"/organisations/{organisation.id}/listings/new/need", data=NEED)
    assert response.status_code == 302
    listing = db.session.scalar(sa.select(Listing))
    assert listing.kind == ListingKind.NEED and listing.status == ListingStatus.OPEN
    assert sorted(t.slug for t in listing.themes) == ["research-evaluation", "work-integration"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert NEED["title"] in page and "Research, evaluation and impact measurement" in page
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "need:create"))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"title": "Eval"}, "Write 5 to 120 characters here."),
        ({"description": "Too short."}, "Write 20 to 5000 characters here."),
        ({"themes": []}, "Choose at least one theme"),
        (
            {"themes": ["funding", "information", "participation", "market-access"]},
            "Choose at most 3 themes",
        ),
        ({"themes": ["no-such-theme"]}, "Choose only among the options offered."),
        ({"scope": "galactic"}, "Choose one of the options offered."),
        ({"expires_on": "2001-01-01"}, "The expiry date cannot be in the past"),
        ({"expires_on": "31/31/2031"}, "Enter a real date, like 2027-03-31."),
    ],
)
def test_bad_listing_input_is_explained_and_kept(
    client: FlaskClient, login: Any, member: Any, organisation: Any, change: dict, message: str
) -> None:
    login(member)
    response = client.post(
        f"/organisations/{organisation.id}/listings/new/need", data={**NEED, **change}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert "We need researchers to evaluate" in page or "description" in change
    assert db.session.scalar(sa.select(Listing)) is None


def test_a_retired_theme_cannot_be_chosen_for_a_new_listing(
    client: FlaskClient, login: Any, member: Any, organisation: Any
) -> None:
    theme = db.session.scalar(sa.select(Theme).where(Theme.slug == "funding"))
    theme.is_retired = True
    db.session.commit()
    login(member)
    form = client.get(f"/organisations/{organisation.id}/listings/new/need").get_data(as_text=True)
    assert 'value="funding"' not in form
    response = client.post(
        f"/organisations/{organisation.id}/listings/new/need", data={**NEED, "themes": ["funding"]}
    )
    assert response.status_code == 422


def test_a_retired_theme_stays_on_an_old_listing_when_edited(
    client: FlaskClient, login: Any, member: Any, organisation: Any
) -> None:
    listing = make_listing(organisation=organisation, themes=("funding",))
    db.session.scalar(sa.select(Theme).where(Theme.slug == "funding")).is_retired = True
    db.session.commit()
    login(member)
    response = client.post(
        f"/listings/{listing.id}/edit",
        data={**NEED, "themes": ["funding"], "title": "Still about funding"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [t.slug for t in listing.themes] == ["funding"]
    assert listing.title == "Still about funding"


@pytest.mark.parametrize(
    "who, status",
    [("outsider", 403), ("unverified-member", 403)],
)
def test_only_members_of_verified_organisations_post(
    client: FlaskClient, login: Any, who: str, status: int
) -> None:
    user = make_user()
    if who == "outsider":
        organisation = make_organisation()
    else:
        organisation = make_organisation(owner=user, status=OrganisationStatus.PENDING)
    login(user)
    url = f"/organisations/{organisation.id}/listings/new/need"
    assert client.get(url).status_code == status
    assert client.post(url, data=NEED).status_code == status
    assert db.session.scalar(sa.select(Listing)) is None


def test_public_agency_posts_a_challenge(client: FlaskClient, login: Any) -> None:
    officer = make_user()
    agency = make_organisation(owner=officer, kind=OrganisationKind.PUBLIC_AGENCY)
    login(officer)
    response = client.post(f"/organisations/{agency.id}/listings/new/challenge", data=_challenge())
    assert response.status_code == 302
    challenge = db.session.scalar(sa.select(Listing))
    assert challenge.kind == ListingKind.CHALLENGE
    assert challenge.sought_kinds == [
        OrganisationKind.ACADEMIC_INSTITUTION,
        OrganisationKind.SSE_ORGANISATION,
    ]
    page = client.get(f"/listings/{challenge.id}").get_data(as_text=True)
    assert "Academic institution" in page and "Deadline" in page


@pytest.mark.parametrize(
    "change, message",
    [
        ({"deadline": (date.today() - timedelta(days=1)).isoformat()}, "cannot be in the past"),
        ({"deadline": ""}, "Give the challenge a deadline"),
        ({"sought_kinds": []}, "Choose at least one kind of partner"),
    ],
)
def test_bad_challenge_input_is_explained(
    client: FlaskClient, login: Any, change: dict, message: str
) -> None:
    officer = make_user()
    agency = make_organisation(owner=officer, kind=OrganisationKind.PUBLIC_AGENCY)
    login(officer)
    response = client.post(
        f"/organisations/{agency.id}/listings/new/challenge", data=_challenge(**change)
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_other_kinds_cannot_post_challenges(
    client: FlaskClient, login: Any, member: Any, organisation: Any
) -> None:
    login(member)
    url = f"/organisations/{organisation.id}/listings/new/challenge"
    assert client.get(url).status_code == 403
    assert client.post(url, data=_challenge()).status_code == 403
    page = client.get("/my/organisations").get_data(as_text=True)
    assert "Post a need" in page and "Post a challenge" not in page


def test_member_edits_but_outsider_cannot(
    client: FlaskClient, login: Any, member: Any, organisation: Any
) -> None:
    listing = make_listing(organisation=organisation)
    login(make_user())
    assert client.get(f"/listings/{listing.id}/edit").status_code == 403
    assert client.post(f"/listings/{listing.id}/edit", data=NEED).status_code == 403
    assert client.post(f"/listings/{listing.id}/close").status_code == 403
    client.post("/logout")
    login(member)
    assert client.post(f"/listings/{listing.id}/edit", data=NEED).status_code == 302
    db.session.refresh(listing)
    assert listing.title == NEED["title"]


def test_a_challenge_is_edited_without_changing_its_deadline(
    client: FlaskClient, login: Any
) -> None:
    """The deadline a challenge already has is checked as "unchanged" (None), and the date
    check refused None for a challenge: no challenge could be edited, on the page or by the
    API, unless its deadline changed too."""
    officer = make_user()
    agency = make_organisation(owner=officer, kind=OrganisationKind.PUBLIC_AGENCY)
    challenge = make_listing(organisation=agency, kind=ListingKind.CHALLENGE)
    deadline = challenge.deadline
    login(officer)
    response = client.post(
        f"/listings/{challenge.id}/edit",
        data=_challenge(title="A clearer title for the challenge", deadline=deadline.isoformat()),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert challenge.title == "A clearer title for the challenge"
    assert challenge.deadline == deadline
    # Its deadline taken away, it is refused as before.
    response = client.post(f"/listings/{challenge.id}/edit", data=_challenge(deadline=""))
    assert response.status_code == 422
    assert "Give the challenge a deadline" in response.get_data(as_text=True)


def test_the_same_themes_and_partners_in_another_order_are_no_change(
    client: FlaskClient, login: Any
) -> None:
    """Themes and sought kinds were compared as lists: sent in another order than the listing
    holds them (the page lists themes by name, the listing by slug), a save that changed
    nothing was recorded as an update and matched the listing again."""
    officer = make_user()
    agency = make_organisation(owner=officer, kind=OrganisationKind.PUBLIC_AGENCY)
    challenge = make_listing(
        organisation=agency,
        kind=ListingKind.CHALLENGE,
        themes=("social-inclusion", "work-integration"),
        sought_kinds=(OrganisationKind.SSE_ORGANISATION, OrganisationKind.ACADEMIC_INSTITUTION),
        title="Active inclusion partnerships in Athens",
        description="Build local partnerships for people at high risk of poverty.",
        scope=Scope.LOCAL,
    )
    login(officer)
    response = client.post(
        f"/listings/{challenge.id}/edit",
        data=_challenge(
            themes=["work-integration", "social-inclusion"],
            sought_kinds=["sse_organisation", "academic_institution"],
            deadline=challenge.deadline.isoformat(),
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_pause_reopen_close(
    client: FlaskClient, login: Any, member: Any, organisation: Any
) -> None:
    listing = make_listing(organisation=organisation)
    login(member)
    for action, expected in [
        ("pause", ListingStatus.PAUSED),
        ("reopen", ListingStatus.OPEN),
        ("close", ListingStatus.CLOSED),
    ]:
        client.post(f"/listings/{listing.id}/{action}")
        db.session.refresh(listing)
        assert listing.status == expected
    assert listing.closed_at is not None
    response = client.post(f"/listings/{listing.id}/pause", follow_redirects=True)
    assert "cannot be changed that way" in response.get_data(as_text=True)
    assert client.post(f"/listings/{listing.id}/reopen").status_code == 302
    db.session.refresh(listing)
    assert listing.status == ListingStatus.OPEN and listing.closed_at is None


def test_my_organisations_shows_listings_in_every_status(
    client: FlaskClient, login: Any, member: Any, organisation: Any
) -> None:
    make_listing(organisation=organisation, title="An open need")
    make_listing(organisation=organisation, title="A closed need", status=ListingStatus.CLOSED)
    make_listing(
        organisation=organisation,
        title="An expired offer",
        kind=ListingKind.OFFER,
        expires_on=date.today() - timedelta(days=1),
    )
    login(member)
    page = client.get("/my/organisations").get_data(as_text=True)
    for title in ("An open need", "A closed need", "An expired offer"):
        assert title in page
    assert "(expired)" in page


def test_expired_listing_is_shown_as_expired_and_kept(client: FlaskClient) -> None:
    listing = make_listing(expires_on=date.today() - timedelta(days=1), title="Old need here")
    page = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "This listing has expired" in page
    assert "Old need here" not in client.get("/needs").get_data(as_text=True)
    assert "Old need here" in client.get("/needs?status=expired").get_data(as_text=True)
    assert db.session.get(Listing, listing.id) is not None


def test_listings_of_unverified_organisations_are_hidden(client: FlaskClient) -> None:
    organisation = make_organisation(status=OrganisationStatus.SUSPENDED)
    listing = make_listing(organisation=organisation, title="Hidden listing")
    assert client.get(f"/listings/{listing.id}").status_code == 404
    assert "Hidden listing" not in client.get("/needs").get_data(as_text=True)


def test_a_listing_is_written_in_a_language_and_read_in_it(
    client: FlaskClient, login: Any, member: Any, organisation: Any
) -> None:
    make_listing(
        title="Évaluation des politiques publiques",
        description="Nous évaluons les politiques publiques de l'économie sociale.",
        language="fr",
    )
    make_listing(
        title="Public policies",
        description="We evaluate public policy for the social economy.",
    )
    login(member)
    page = client.get(f"/organisations/{organisation.id}/listings/new/need").get_data(as_text=True)
    assert '<option value="fr">French</option>' in page
    # The same words in other forms, in French: only the French listing comes up.
    fragment = client.get(
        "/listings/similar?kind=need&language=fr&q=une+politique+publique+évaluée"
    ).get_data(as_text=True)
    assert "Évaluation des politiques publiques" in fragment and "Public policies" not in fragment
    response = client.post(
        f"/organisations/{organisation.id}/listings/new/need",
        data={
            **NEED,
            "description": "Nous cherchons une évaluation de nos politiques.",
            "language": "fr",
        },
    )
    assert response.status_code == 302
    listing = db.session.scalar(sa.select(Listing).order_by(Listing.id.desc()))
    assert listing.language == "fr"
    refused = client.post(
        f"/organisations/{organisation.id}/listings/new/need", data={**NEED, "language": "xx"}
    )
    assert refused.status_code == 422


def test_similar_listings_are_for_those_who_may_write_listings(app: Flask) -> None:
    """The suggestions serve the listing form, which only members of a verified organisation
    see; anyone else (a fresh sign-up) gets nothing from this costly search."""
    make_listing(title="Impact evaluation for social cooperatives")
    url = "/listings/similar?kind=need&q=evaluation+impact"
    pending_owner = make_user()
    make_organisation(owner=pending_owner, status=OrganisationStatus.PENDING)
    for user in (make_user(confirmed=False), make_user(), pending_owner):
        assert signed_in(app, user).get(url).status_code == 403
    member = make_user()
    make_organisation(members=[member])
    assert "Impact evaluation" in signed_in(app, member).get(url).get_data(as_text=True)


def test_similar_listings_are_suggested_while_writing(
    client: FlaskClient, login: Any, member: Any, organisation: Any
) -> None:
    make_listing(
        title="Impact evaluation for social cooperatives",
        description="Researchers who measure the impact of cooperatives.",
    )
    make_listing(title="Catering for events", description="Healthy food cooked by our co-op.")
    login(member)
    fragment = client.get("/listings/similar?kind=need&q=evaluate+impact").get_data(as_text=True)
    assert "Impact evaluation for social cooperatives" in fragment
    assert "Catering" not in fragment
    nothing = client.get("/listings/similar?kind=need&q=zzzzqqq").get_data(as_text=True)
    assert "No similar open listing yet" in nothing
    # The form shows them too when it comes back with errors.
    response = client.post(
        f"/organisations/{organisation.id}/listings/new/need",
        data={**NEED, "title": "x", "description": "impact evaluation of cooperatives"},
    )
    assert "Impact evaluation for social cooperatives" in response.get_data(as_text=True)


def test_themes_held_in_another_order_than_pythons_are_no_change(app: Flask) -> None:
    """The listing holds its themes in the database's order of their slugs (``order_by``), which
    a collation may make another than Python's sorted() (en_US puts "foodbanks" before
    "food-security": it weighs no hyphen first). The same themes saved again are no change."""
    from matchmaker.listings.services import update_listing

    member = make_user()
    listing = make_listing(
        organisation=make_organisation(owner=member),
        themes=("social-inclusion", "work-integration"),
    )
    # As such a collation would load them: not in Python's order.
    listing.themes = sorted(listing.themes, key=lambda theme: theme.slug, reverse=True)
    changes = update_listing(
        listing=listing,
        actor=member,
        title=listing.title,
        description=listing.description,
        themes=["social-inclusion", "work-integration"],
        scope=listing.scope,
        expires_on=listing.expires_on,
        language=listing.language,
    )
    assert changes == {}
