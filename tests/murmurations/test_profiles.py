"""Murmurations profiles: every demo profile validates against the published schemas (copies in
this folder, see README.md), unpublished ones answer 404, and the register command posts them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from matchmaker.demo.cli import load_demo
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, ListingStatus, Scope
from matchmaker.organisations.models import Organisation, OrganisationKind, OrganisationStatus
from tests.factories import make_listing, make_organisation

HERE = Path(__file__).parent


def _field(uri: str) -> Resource[Any]:
    """``../fields/<name>.json`` of a schema, from the copy in fields/ (never the network)."""
    path = HERE / "fields" / uri.rsplit("/", 1)[-1]
    if not path.exists():
        raise LookupError(f"{path.name} is not copied into tests/murmurations/fields (README.md)")
    return DRAFT7.create_resource(json.loads(path.read_text(encoding="utf-8")))


def validator(schema_name: str) -> Draft7Validator:
    schema = json.loads((HERE / "schemas" / f"{schema_name}.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema, registry=Registry(retrieve=_field))  # type: ignore[call-arg]


def _problems(schema_name: str, profile: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(schema_name).iter_errors(profile)
    ]


def _path(url: str) -> str:
    assert url.startswith("http://localhost/"), url
    return url.removeprefix("http://localhost")


def test_every_demo_profile_validates_against_its_published_schema(
    app: Flask, client: FlaskClient
) -> None:
    load_demo()
    db.session.commit()
    index = client.get("/murmurations/index.json")
    assert index.status_code == 200
    entries = index.get_json()["profiles"]

    verified = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Organisation)
        .where(Organisation.status == OrganisationStatus.VERIFIED)
    )
    live = db.session.scalars(sa.select(Listing)).all()
    live = [listing for listing in live if listing.is_live()]
    by_schema: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        (schema_name,) = entry["linked_schemas"]
        response = client.get(_path(entry["profile_url"]))
        assert response.status_code == 200, entry
        profile = response.get_json()
        assert profile["linked_schemas"] == entry["linked_schemas"]
        assert _problems(schema_name, profile) == [], entry["profile_url"]
        by_schema.setdefault(schema_name, []).append(profile)

    assert len(by_schema["organizations_schema-v1.0.0"]) == verified > 0
    assert len(by_schema["offers_wants_schema-v0.1.0"]) == len(live) > 0
    exchanges = {p["exchange_type"] for p in by_schema["offers_wants_schema-v0.1.0"]}
    assert exchanges == {"offer", "want"}


def test_a_listing_profile_carries_its_themes_scope_expiry_and_page_not_its_contacts(
    app: Flask, client: FlaskClient
) -> None:
    organisation = make_organisation(
        kind=OrganisationKind.PUBLIC_AGENCY,
        contacts=[{"name": "Rosa Hidden", "position": "Officer", "email": "rosa@city.example"}],
    )
    deadline = date.today() + timedelta(days=30)
    challenge = make_listing(
        organisation=organisation,
        kind=ListingKind.CHALLENGE,
        themes=("social-inclusion", "work-integration"),
        scope=Scope.NATIONAL,
        deadline=deadline,
        expires_on=deadline + timedelta(days=10),
    )
    response = client.get(f"/murmurations/listings/{challenge.id}.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    profile = response.get_json()
    assert profile["exchange_type"] == "want"
    assert sorted(profile["tags"]) == sorted(t.name for t in challenge.themes)
    assert profile["geographic_scope"] == "national"
    page = f"http://localhost/listings/{challenge.id}"
    assert profile["contact_details"] == {"contact_form": page}
    # It stops counting after its deadline (the earlier of its two dates): midnight UTC after it.
    assert date.fromtimestamp(profile["expires_at"] - 1) == deadline
    assert "Rosa" not in response.get_data(as_text=True)
    assert "rosa@city.example" not in response.get_data(as_text=True)
    assert _problems("offers_wants_schema-v0.1.0", profile) == []

    offer = make_listing(organisation=make_organisation(), kind=ListingKind.OFFER)
    offered = client.get(f"/murmurations/listings/{offer.id}.json").get_json()
    assert offered["exchange_type"] == "offer"
    assert "expires_at" not in offered


def test_a_listing_counting_to_the_last_day_of_the_calendar_has_a_profile(
    client: FlaskClient,
) -> None:
    """The forms and the API take any date to come, 9999-12-31 too: its profile added a day to
    it, which is no date (OverflowError, a 500 on a public address)."""
    need = make_listing(expires_on=date.max)
    response = client.get(f"/murmurations/listings/{need.id}.json")
    assert response.status_code == 200
    profile = response.get_json()
    assert date.fromtimestamp(profile["expires_at"] - 1) == date.max
    assert _problems("offers_wants_schema-v0.1.0", profile) == []


def test_an_organisation_profile_names_it_and_points_to_its_page(
    app: Flask, client: FlaskClient
) -> None:
    organisation = make_organisation(
        name="Cooperativa Sol",
        country="BR",
        website="https://sol.example.org",
        contacts=[{"name": "Joana Hidden", "email": "joana@sol.example.org"}],
    )
    make_listing(organisation=organisation, themes=("market-access",))
    profile = client.get(f"/murmurations/organisations/{organisation.id}.json").get_json()
    assert profile["name"] == "Cooperativa Sol"
    assert profile["primary_url"] == "https://sol.example.org"
    assert profile["country_iso_3166"] == "BR"
    assert profile["contact_details"] == {
        "contact_form": f"http://localhost/organisations/{organisation.id}"
    }
    assert "Market access and public procurement" in profile["tags"]
    assert "Joana" not in json.dumps(profile)
    assert _problems("organizations_schema-v1.0.0", profile) == []


def test_unpublished_profiles_answer_404_and_stay_out_of_the_index(
    app: Flask, client: FlaskClient
) -> None:
    pending = make_organisation(status=OrganisationStatus.PENDING)
    of_pending = make_listing(organisation=pending)
    verified = make_organisation()
    closed = make_listing(organisation=verified, status=ListingStatus.CLOSED)
    paused = make_listing(organisation=verified, status=ListingStatus.PAUSED)
    expired = make_listing(organisation=verified)
    expired.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    published = make_listing(organisation=verified)

    assert client.get(f"/murmurations/organisations/{pending.id}.json").status_code == 404
    assert client.get("/murmurations/organisations/999999.json").status_code == 404
    for listing in (of_pending, closed, paused, expired):
        assert client.get(f"/murmurations/listings/{listing.id}.json").status_code == 404
    urls = {e["profile_url"] for e in client.get("/murmurations/index.json").get_json()["profiles"]}
    assert urls == {
        f"http://localhost/murmurations/organisations/{verified.id}.json",
        f"http://localhost/murmurations/listings/{published.id}.json",
    }


class FakeIndex(BaseHTTPRequestHandler):
    """A Murmurations index node on loopback: keeps what it is sent, refuses one URL."""

    received: list[dict[str, Any]] = []
    refuse: str = ""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"path": self.path, **body})
        refused = body["profile_url"] == type(self).refuse
        self.send_response(400 if refused else 200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        answer = {"errors": [{"title": "Invalid"}]} if refused else {"data": {"status": "received"}}
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_index() -> Iterator[str]:
    FakeIndex.received, FakeIndex.refuse = [], ""
    server = HTTPServer(("127.0.0.1", 0), FakeIndex)
    # Polled every 20 ms rather than every 0.5 s, the server's default, which each test's
    # shutdown below waited out.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2"
    server.shutdown()
    server.server_close()
    thread.join()


def test_register_sends_nothing_unless_an_index_is_configured(app: Flask, fake_index: str) -> None:
    make_listing()
    result = app.test_cli_runner().invoke(args=["murmurations", "register"])
    assert result.exit_code == 0
    assert "not set" in result.output
    assert FakeIndex.received == []


def test_register_posts_every_profile_url_to_the_index(app: Flask, fake_index: str) -> None:
    listing = make_listing()
    app.config["MURMURATIONS_INDEX_URL"] = fake_index
    result = app.test_cli_runner().invoke(args=["murmurations", "register"])
    assert result.exit_code == 0, result.output
    assert "2 of 2 profiles registered" in result.output
    base = app.config["MATCHMAKER_BASE_URL"]
    assert FakeIndex.received == [
        {
            "path": "/v2/nodes",
            "profile_url": f"{base}/murmurations/organisations/{listing.organisation_id}.json",
        },
        {"path": "/v2/nodes", "profile_url": f"{base}/murmurations/listings/{listing.id}.json"},
    ]


def test_register_reports_what_the_index_refused(app: Flask, fake_index: str) -> None:
    listing = make_listing()
    base = app.config["MATCHMAKER_BASE_URL"]
    FakeIndex.refuse = f"{base}/murmurations/listings/{listing.id}.json"
    app.config["MURMURATIONS_INDEX_URL"] = fake_index
    result = app.test_cli_runner().invoke(args=["murmurations", "register"])
    assert result.exit_code == 1
    assert f"refused: {FakeIndex.refuse}: 400" in result.output
    assert "1 of 2 profiles registered" in result.output
    assert len(FakeIndex.received) == 2


def test_register_stops_when_the_index_does_not_answer(app: Flask, fake_index: str) -> None:
    make_listing()
    app.config["MURMURATIONS_INDEX_URL"] = "http://127.0.0.1:9/v2"  # discard port: nobody there
    result = app.test_cli_runner().invoke(args=["murmurations", "register"])
    assert result.exit_code == 1
    assert "did not answer" in result.output
