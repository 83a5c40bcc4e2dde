from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts.models import Role, User
from matchmaker.extensions import db
from matchmaker.organisations.models import Organisation, OrganisationStatus


def _count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_demo_load_creates_the_seed_cases_once(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    organisations, users = _count(Organisation), _count(User)
    names = set(db.session.scalars(sa.select(Organisation.name)))
    assert "Social Enterprise Network" in names
    assert "City of Athens" in names
    assert "Technology University of Athens" in names
    assert "Région Tanger-Tetouan-Al Hoceima" in names
    assert "Municipality of São Paulo" in names
    assert any(name.startswith("University of Liverpool") for name in names)
    people = {
        c.name: c.position for o in db.session.scalars(sa.select(Organisation)) for c in o.contacts
    }
    assert people["Alan Southern"].startswith("Co-Director of Heseltine Institute")
    assert people["Rosie Jolly"].startswith("Mayoral Lead for Social & Community Enterprise")
    assert "Gabriel Amitsis" in people and "Mohamed Ziad" in people
    assert all(
        o.status == OrganisationStatus.VERIFIED for o in db.session.scalars(sa.select(Organisation))
    )
    # Every demo city is a real place, in the seed cases' four regions.
    assert set(db.session.execute(sa.select(Organisation.country, Organisation.subdivision))) == {
        ("GB", "GB-ENG"),
        ("GR", "GR-I"),
        ("MA", "MA-01"),
        ("BR", "BR-SP"),
    }
    roles = {u.email: u.role for u in db.session.scalars(sa.select(User))}
    assert roles["coordinator@example.org"] == Role.COORDINATOR
    assert roles["admin@example.org"] == Role.ADMIN

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert (_count(Organisation), _count(User)) == (organisations, users)


def test_demo_load_if_empty_leaves_a_used_database_alone(app: Flask) -> None:
    from tests.factories import make_organisation

    make_organisation()
    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
    assert "not loaded" in result.output
    assert _count(Organisation) == 1


def test_demo_accounts_can_sign_in(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["demo", "load"])
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "coordinator@example.org", "password": "demo-password"}
    )
    assert response.status_code == 302
    assert client.get("/coordination/organisations").status_code == 200


def test_demo_has_needs_offers_and_challenges_from_each_case(app: Flask) -> None:
    from matchmaker.listings.models import Listing, ListingKind

    app.test_cli_runner().invoke(args=["demo", "load"])
    listings = list(db.session.scalars(sa.select(Listing)))
    kinds = {listing.kind for listing in listings}
    assert kinds == {ListingKind.NEED, ListingKind.OFFER, ListingKind.CHALLENGE}
    countries = {listing.organisation.country for listing in listings}
    assert countries == {"GB", "GR", "MA", "BR"}
    challenges = {
        listing.organisation.name for listing in listings if listing.kind == ListingKind.CHALLENGE
    }
    assert "City of Athens" in challenges
    assert all(listing.is_live() for listing in listings)


def test_each_seed_case_is_proposed_in_its_own_shape(app: Flask) -> None:
    from matchmaker.proposals.models import Proposal

    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert runner.invoke(args=["match", "run"]).exit_code == 0
    shapes: dict[str, list[set[str]]] = {}
    for proposal in db.session.scalars(sa.select(Proposal)):
        organisations = {party.organisation.name for party in proposal.parties}
        shapes.setdefault(proposal.template, []).append(organisations)
    liverpool = {
        "Social Enterprise Network",
        "Liverpool City Mayor's Office",
        "University of Liverpool – Heseltine Institute for Public Policy and Practice",
    }
    assert liverpool in shapes["knowledge_exchange_triad"]
    assert any(
        {"City of Athens", "Technology University of Athens"} < organisations
        for organisations in shapes["local_inclusion_partnership"]
    )
    # São Paulo: the municipality, its incubator NGO, SSE enterprises and the State as buyer.
    assert any(
        {
            "Municipality of São Paulo",
            "São Paulo Solidarity Economy Incubator (illustrative NGO)",
            "São Paulo State public purchasing programme (illustrative)",
        }
        < organisations
        for organisations in shapes["incubation_procurement"]
    )
    # Tanger: the region, support organisations, project developers and a policy body.
    assert any(
        {
            "Région Tanger-Tetouan-Al Hoceima",
            "Tangier SSE support and advice centre (illustrative)",
            "Tangier Association of SSE Project Developers (illustrative)",
            "Regional SSE council of Tanger-Tetouan-Al Hoceima (illustrative)",
        }
        <= organisations
        for organisations in shapes["territorial_platform"]
    )


def test_the_demos_mark_on_invented_organisations_is_no_shared_word(app: Flask) -> None:
    # The seed cases' invented organisations are named "… (illustrative)": a mark of the demo,
    # not a word they wrote, so it neither scores as their shared vocabulary nor is named in a
    # proposal's reasons.
    from matchmaker.proposals.models import Proposal

    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert runner.invoke(args=["match", "run"]).exit_code == 0
    marked = db.session.scalars(
        sa.select(Organisation.name).where(Organisation.name.like("%(illustrative%"))
    ).all()
    assert len(marked) >= 5
    words = [
        word for e in db.session.scalars(sa.select(Proposal.explanation)) for word in _words(e)
    ]
    assert "athens" in [word.lower() for word in words]  # the words proposals are explained by
    assert not [word for word in words if word.lower().startswith("illustrativ")]


def _words(explanation: object) -> list[str]:
    """Every word an explanation names (the "words" of its rules' parameters, at any depth)."""
    if isinstance(explanation, list):
        return [word for item in explanation for word in _words(item)]
    if isinstance(explanation, dict):
        found = list(explanation.get("words", []))
        return found + [w for key, v in explanation.items() if key != "words" for w in _words(v)]
    return []


def test_seed_cases_write_in_their_own_languages_and_are_found_in_them(app: Flask) -> None:
    from matchmaker.listings.models import Listing

    app.test_cli_runner().invoke(args=["demo", "load"])
    languages: dict[str, set[str]] = {}
    for listing in db.session.scalars(sa.select(Listing)):
        languages.setdefault(listing.organisation.country, set()).add(listing.language)
    # Athens writes Greek, São Paulo Portuguese, Tanger-Tetouan-Al Hoceima Arabic and French;
    # each region also has listings in English, the language the four cases share.
    assert languages == {
        "GB": {"en"},
        "GR": {"el", "en"},
        "BR": {"pt", "en"},
        "MA": {"ar", "fr", "en"},
    }
    # Every demo organisation describes itself in English, the language the four cases share,
    # whatever the language of its listings.
    assert set(db.session.scalars(sa.select(Organisation.language))) == {"en"}
    client = app.test_client()
    # A word in another form than it was written finds the listing, in its language.
    assert "Θέσεις ένταξης στην εργασία" in client.get("/offers?q=συνεταιρισμού").text
    assert "معلومات وتكوين لتنمية تعاونيتنا" in client.get("/needs?q=تعاونية").text
    assert "nossa cooperativa de costura" in client.get("/needs?q=cooperativas").text
    assert "porteurs de projets" in client.get("/offers?q=porteur").text
