"""Real places: every way of writing a city finds the same place, offline."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from matchmaker.places import gazetteer
from tests.factories import make_user

ATHENS, SAO_PAULO, TANGIER, LIVERPOOL = 264371, 3448439, 2530335, 2644210


@pytest.mark.parametrize(
    "written, country, geonames_id",
    [
        ("Αθήνα", "GR", ATHENS),
        ("ΑΘΗΝΑ", "GR", ATHENS),
        ("Athina", "GR", ATHENS),
        ("Athens", "GR", ATHENS),
        ("São Paulo", "BR", SAO_PAULO),
        ("Sao Paulo", "BR", SAO_PAULO),
        ("sao-paulo", "BR", SAO_PAULO),
        ("طنجة", "MA", TANGIER),
        ("Tanger", "MA", TANGIER),
        ("Tangier", "MA", TANGIER),
        ("Liverpool", "GB", LIVERPOOL),
    ],
)
def test_every_spelling_and_script_finds_the_same_city(
    written: str, country: str, geonames_id: int
) -> None:
    place = gazetteer.resolve(written, country)
    assert place is not None and place.geonames_id == geonames_id


def test_a_place_carries_its_coordinates_country_and_iso_subdivision() -> None:
    athens = gazetteer.get(ATHENS)
    assert athens is not None
    assert (athens.country, athens.subdivision) == ("GR", "GR-I")
    assert athens.latitude == pytest.approx(37.98, abs=0.01)
    assert gazetteer.subdivision_name(athens.subdivision) == "Attikí"
    # The subdivisions of the four seed regions.
    assert [gazetteer.get(i).subdivision for i in (SAO_PAULO, TANGIER, LIVERPOOL)] == [
        "BR-SP",
        "MA-01",
        "GB-ENG",
    ]


def test_the_country_tells_same_named_cities_apart() -> None:
    assert gazetteer.resolve("Athens", "US").country == "US"
    assert gazetteer.resolve("Athens").geonames_id == ATHENS
    # A suggestion names the subdivision, which picks the one meant.
    georgia = gazetteer.resolve("Athens (Georgia)", "US")
    assert georgia is not None and georgia.subdivision == "US-GA"


def test_an_unknown_place_is_none() -> None:
    assert gazetteer.resolve("Atlantis", "GR") is None
    assert gazetteer.resolve("", "GR") is None


def test_distance_between_real_places() -> None:
    liverpool, birkenhead = (
        gazetteer.resolve("Liverpool", "GB"),
        gazetteer.resolve("Birkenhead", "GB"),
    )
    assert liverpool and birkenhead
    km = gazetteer.distance_km(
        (liverpool.latitude, liverpool.longitude), (birkenhead.latitude, birkenhead.longitude)
    )
    assert 1 < km < 10


def test_suggestions_complete_names_in_any_script(client: FlaskClient, login: Any) -> None:
    login(make_user())
    response = client.get("/places/suggestions?q=Αθή&country=GR")
    assert response.status_code == 200
    first = response.get_json()[0]
    assert first["id"] == ATHENS
    assert first["value"] == "Athens (Attikí)"
    assert "Greece" in first["label"]
    # Within the chosen country only; without one, anywhere.
    assert {p["id"] for p in client.get("/places/suggestions?q=athens&country=US").get_json()}
    assert ATHENS not in {
        p["id"] for p in client.get("/places/suggestions?q=athens&country=US").get_json()
    }
    assert client.get("/places/suggestions?q=طنج").get_json()[0]["id"] == TANGIER


@pytest.mark.parametrize("query", ["", "a", "\x00\x00", "x" * 5000, "?country=ZZZ"])
def test_odd_suggestion_queries_answer_an_empty_or_short_list(
    client: FlaskClient, login: Any, query: str
) -> None:
    login(make_user())
    response = client.get("/places/suggestions", query_string={"q": query, "country": "Q\x00"})
    assert response.status_code == 200
    assert isinstance(response.get_json(), list)
