from __future__ import annotations

import base64
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.core import paging
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind, ListingStatus, Scope, Theme
from matchmaker.listings.search import ListingFilters, browse_statement, search_terms
from matchmaker.organisations.models import OrganisationKind
from tests.core.pager import links, walk, walk_there_and_back
from tests.factories import make_listing, make_organisation


def titles(client: FlaskClient, url: str) -> list[str]:
    return _titles(client.get(url).get_data(as_text=True))


def _titles(body: str) -> list[str]:
    return re.findall(r'<h[23] class="card-title"><a href="/listings/\d+"[^>]*>([^<]+)</a>', body)


@pytest.fixture
def world() -> None:
    athens_uni = make_organisation(
        name="Athens Uni",
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
        city="Athens",
        region="Attica",
        country="GR",
    )
    athens_coop = make_organisation(
        name="Athens Coop", city="Athens", region="Attica", country="GR"
    )
    liverpool = make_organisation(name="Liverpool Network")
    make_listing(
        organisation=athens_coop,
        title="Kitchen for people in poverty",
        description="Our cooperative cooks meals for homeless people in Athens.",
        themes=("basic-needs", "social-inclusion"),
        scope=Scope.LOCAL,
    )
    make_listing(
        organisation=athens_uni,
        title="Research on social inclusion",
        description="We need partners for evaluating inclusion programmes.",
        themes=("research-evaluation",),
        scope=Scope.INTERNATIONAL,
    )
    make_listing(
        organisation=liverpool,
        title="Strategy for the city-region",
        description="Shaping the strategic direction of the social economy.",
        themes=("policy-strategy",),
        scope=Scope.REGIONAL,
    )
    make_listing(
        organisation=liverpool,
        title="Paused evaluation need",
        description="Evaluation of the network's programmes, on hold for now.",
        themes=("research-evaluation",),
        status=ListingStatus.PAUSED,
    )
    make_listing(
        organisation=liverpool,
        kind=ListingKind.OFFER,
        title="Training offer",
        description="Training and advice for new social enterprises.",
        themes=("training-advice",),
    )


def test_filters_combine(client: FlaskClient, world: None) -> None:
    assert titles(client, "/needs") == [
        "Strategy for the city-region",
        "Research on social inclusion",
        "Kitchen for people in poverty",
    ]
    assert titles(client, "/needs?country=GR") == [
        "Research on social inclusion",
        "Kitchen for people in poverty",
    ]
    assert titles(client, "/needs?country=GR&organisation_kind=academic_institution") == [
        "Research on social inclusion"
    ]
    assert titles(client, "/needs?theme=research-evaluation") == ["Research on social inclusion"]
    assert titles(client, "/needs?theme=research-evaluation&status=all") == [
        "Paused evaluation need",
        "Research on social inclusion",
    ]
    assert titles(client, "/needs?status=paused") == ["Paused evaluation need"]
    assert titles(client, "/needs?region=attica&scope=local") == ["Kitchen for people in poverty"]
    assert titles(client, "/offers") == ["Training offer"]


def test_full_text_search_finds_a_word_of_the_description(client: FlaskClient, world: None) -> None:
    assert titles(client, "/needs?q=homeless") == ["Kitchen for people in poverty"]
    # Stemmed: "evaluate" finds "evaluating" and "evaluation".
    assert titles(client, "/needs?q=evaluate&status=all") == [
        "Paused evaluation need",
        "Research on social inclusion",
    ]
    # Every word must match.
    assert titles(client, "/needs?q=homeless+strategy") == []
    assert titles(client, "/needs?q=the") == []


# Each listing is searched in its own language: a searched word finds the other forms of it
# (Snowball stems in the listing's language), with or without accents, on both engines.
IN_EACH_LANGUAGE = [
    ("fr", "Évaluation des politiques locales", "Une université pour nous aider.", "politique"),
    ("es", "Compras públicas para cooperativas", "Buscamos formación.", "cooperativa"),
    ("pt", "Incubação de empreendimentos solidários", "Precisamos de apoio.", "empreendimento"),
    ("it", "Patti di collaborazione nei quartieri", "Cerchiamo volontari.", "quartiere"),
    ("el", "Κοινωνική επιχείρηση για νέους", "Χρειαζόμαστε εκπαίδευση.", "κοινωνικής"),
    ("el", "Στέγαση στην Αθήνα", "Ένας συνεταιρισμός.", "αθηνα"),
    ("ar", "تمويل التعاونيات في طنجة", "نحتاج إلى تدريب.", "التعاونية"),
    ("en", "Évaluation of social policies", "A study.", "evaluation"),
]


@pytest.mark.parametrize(("language", "title", "description", "query"), IN_EACH_LANGUAGE)
def test_a_search_finds_other_forms_of_a_word_in_the_listings_language(
    client: FlaskClient, language: str, title: str, description: str, query: str
) -> None:
    make_listing(title=title, description=description, language=language)
    make_listing(title="Something else entirely", description="Nothing in common here.")
    assert titles(client, f"/needs?q={query}") == [title]


def test_a_search_word_also_finds_longer_words_while_someone_types(client: FlaskClient) -> None:
    make_listing(title="Incubation for new cooperatives")
    make_listing(title="Κοινωνικοί συνεταιρισμοί", language="el")
    assert titles(client, "/needs?q=incubat") == ["Incubation for new cooperatives"]
    assert titles(client, "/needs?q=κοινων") == ["Κοινωνικοί συνεταιρισμοί"]


def test_search_combines_with_filters(client: FlaskClient, world: None) -> None:
    assert titles(client, "/needs?q=social&country=GB") == ["Strategy for the city-region"]
    assert titles(client, "/needs?q=inclusion&theme=basic-needs") == []


def test_relevance_puts_title_matches_first(client: FlaskClient) -> None:
    make_listing(
        title="Meals and catering services",
        description="Our cooperative runs a kitchen employing local people.",
    )
    make_listing(
        title="Community kitchen partnership",
        description="We look for partners to share equipment and volunteers.",
    )
    assert titles(client, "/needs?q=kitchen") == [
        "Community kitchen partnership",
        "Meals and catering services",
    ]


def test_search_input_cannot_break_the_query(client: FlaskClient, world: None) -> None:
    for query in ['"', "AND OR NOT", "kitchen*)(", "'; DROP TABLE listings; --", "NEAR(a b)"]:
        response = client.get("/needs", query_string={"q": query})
        assert response.status_code == 200


def test_challenges_sort_by_deadline(client: FlaskClient) -> None:
    soon = date.today() + timedelta(days=5)
    later = date.today() + timedelta(days=50)
    make_listing(kind=ListingKind.CHALLENGE, title="Later challenge", deadline=later)
    make_listing(kind=ListingKind.CHALLENGE, title="Sooner challenge", deadline=soon)
    make_listing(
        kind=ListingKind.CHALLENGE,
        title="Past challenge",
        deadline=date.today() - timedelta(days=1),
    )
    assert titles(client, "/challenges?sort=deadline") == ["Sooner challenge", "Later challenge"]
    assert titles(client, "/challenges?status=expired") == ["Past challenge"]


def test_needs_pages_walk_every_listing_once_forward_and_back(
    app: Flask, client: FlaskClient
) -> None:
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        make_listing(title=f"Training need {number}", themes=("training-advice",))
    make_listing(title="Funding need", themes=("funding",))
    newest_first = [f"Training need {number}" for number in range(4, -1, -1)]

    pages, last = walk_there_and_back(client, "/needs?theme=training-advice", _titles)
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert "theme=training-advice" in last  # the filter survives paging


def test_challenges_pages_by_deadline_with_the_undated_last(
    app: Flask, client: FlaskClient
) -> None:
    app.config["PAGE_SIZE"] = 2
    today = date.today()
    for days in (30, 5, 30, 12):
        make_listing(
            kind=ListingKind.CHALLENGE,
            title=f"Challenge in {days} days",
            deadline=today + timedelta(days=days),
        )
    make_listing(kind=ListingKind.CHALLENGE, title="Challenge without deadline", deadline=None)

    pages, _last = walk_there_and_back(client, "/challenges?sort=deadline", _titles)
    assert pages == [
        ["Challenge in 5 days", "Challenge in 12 days"],
        ["Challenge in 30 days", "Challenge in 30 days"],
        ["Challenge without deadline"],
    ]


def test_listings_added_while_paging_neither_repeat_nor_vanish(
    app: Flask, client: FlaskClient
) -> None:
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        make_listing(title=f"Early need {number}")
    added = iter(range(10))

    def add() -> None:
        make_listing(title=f"Late need {next(added)}")

    pages, _last = walk(client, "/needs", _titles, between=add)
    seen = [title for page in pages for title in page]
    # Needs posted while the reader pages on are newer: they are on pages already read.
    assert seen == [f"Early need {number}" for number in range(4, -1, -1)]


def test_search_results_page_by_position_to_a_bound(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        make_listing(title=f"Kitchen need {number}")
    pages, last = walk_there_and_back(client, "/needs?q=kitchen", _titles)
    assert sorted(title for page in pages for title in page) == [
        f"Kitchen need {number}" for number in range(5)
    ]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert "q=kitchen" in last

    monkeypatch.setattr(paging, "MAX_OFFSET", 2)
    # The last page within the bound has no Next link; a deeper one is refused with a message.
    assert "next" not in links(client.get("/needs?q=kitchen&page=2").get_data(as_text=True))
    too_deep = client.get("/needs", query_string={"q": "kitchen", "cursor": "eyJvZmZzZXQiOjR9"})
    assert too_deep.status_code == 400
    assert "cannot be paged this deep" in too_deep.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/needs", "/needs?q=kitchen", "/challenges?sort=deadline"])
def test_a_tampered_page_link_is_refused_with_a_message(client: FlaskClient, path: str) -> None:
    make_listing(title="Kitchen need")
    joiner = "&" if "?" in path else "?"
    # The last: a time at the very start of the calendar, in a zone east of UTC (before UTC
    # began), which the database could not be asked about.
    at_the_edge = paging.encode_cursor({"after": ["0001-01-01T00:00:00+14:00", 1]})
    for cursor in ["%%%", "eyJhZnRlciI6WyJ4IiwxXX0=", "eyJvZmZzZXQiOi0xfQ==", at_the_edge]:
        answer = client.get(f"{path}{joiner}cursor={cursor}")
        assert answer.status_code == 400, (path, cursor)
        assert "This page link is not one this list gave out" in answer.get_data(as_text=True)


def test_a_page_link_nested_too_deep_to_read_is_refused_not_a_failure(
    client: FlaskClient,
) -> None:
    """A cursor within the length allowed can hold arrays nested past Python's recursion limit:
    the JSON reader then raises RecursionError, which was a 500 on every paged list."""
    make_listing(title="Kitchen need")
    deep = base64.urlsafe_b64encode(b"[" * (paging.MAX_CURSOR_LENGTH * 3 // 4 - 10)).decode()
    assert len(deep) <= paging.MAX_CURSOR_LENGTH
    for path in ("/needs", "/organisations", "/announcements"):
        answer = client.get(path, query_string={"cursor": deep})
        assert answer.status_code == 400, path
        assert "This page link is not one this list gave out" in answer.get_data(as_text=True)
    api = client.get("/api/v1/listings", query_string={"cursor": deep})
    assert api.status_code == 422
    assert api.get_json()["errors"][0]["field"] == "cursor"


def test_old_page_numbers_still_open_a_page(app: Flask, client: FlaskClient) -> None:
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        make_listing(title=f"Training need {number}", themes=("training-advice",))
    assert titles(client, "/needs?theme=training-advice&page=3") == ["Training need 0"]


def test_unknown_filter_values_are_refused(client: FlaskClient) -> None:
    response = client.get("/needs?scope=galactic")
    assert response.status_code == 400
    assert "Choose one of the options offered." in response.get_data(as_text=True)
    assert client.get("/needs?status=weird").status_code == 400


def test_search_terms_drop_noise() -> None:
    assert search_terms("The need for an EVALUATION of our co-op's work!") == [
        "evaluation",
        "co",
        "op",
        "work",
    ]


def test_the_search_index_follows_edits_and_deletes(app: Flask) -> None:
    listing = make_listing(title="Bicycle repair workshop")

    def found(word: str) -> bool:
        statement = browse_statement(ListingFilters(q=word))
        return listing in db.session.scalars(statement).all()

    assert found("bicycle")
    listing.title = "Wheelchair repair workshop"
    db.session.commit()
    assert found("wheelchair") and not found("bicycle")
    db.session.delete(listing)
    db.session.commit()
    assert not db.session.scalars(browse_statement(ListingFilters(q="wheelchair"))).all()


def test_home_counts_open_listings_by_theme(client: FlaskClient, world: None) -> None:
    page = client.get("/").get_data(as_text=True)
    research = re.search(
        r"Research, evaluation and impact measurement</span></th>\s*<td><a[^>]*>(\d+)</a>", page
    )
    assert research and research.group(1) == "1"  # the paused one does not count
    assert "Training, technical and professional advice" in page


def test_home_shows_the_newest_challenges(client: FlaskClient) -> None:
    make_listing(kind=ListingKind.CHALLENGE, title="Inclusion challenge for Athens")
    assert "Inclusion challenge for Athens" in client.get("/").get_data(as_text=True)


def test_the_fifteen_themes_exist(app: Flask) -> None:
    slugs = set(db.session.scalars(sa.select(Theme.slug)))
    assert len(slugs) == 15
    assert {"research-evaluation", "knowledge-exchange", "local-wealth", "basic-needs"} <= slugs


def test_arguments_a_pager_cannot_carry_are_left_off_its_links(
    app: Flask, client: FlaskClient
) -> None:
    app.config["PAGE_SIZE"] = 1
    for number in range(2):
        make_listing(title=f"Kitchen need {number}")
    answer = client.get("/needs?_method=POST&q=kitchen")
    assert answer.status_code == 200
    following = links(answer.get_data(as_text=True))["next"]
    assert "q=kitchen" in following and "_method" not in following
