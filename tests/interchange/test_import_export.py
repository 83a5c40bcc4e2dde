from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core.models import Job, JobStatus
from matchmaker.extensions import db
from matchmaker.interchange.csv_tables import tables_from_document
from matchmaker.interchange.services import ImportRefused, export_document, import_document
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.matching.models import MatcherRun, RunKind
from matchmaker.matching.tasks import FULL_RUN
from matchmaker.organisations.models import (
    ContactPerson,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from matchmaker.proposals.models import Proposal
from tests.conftest import clean_database
from tests.factories import make_user

DOCUMENT: dict[str, Any] = {
    "organisations": [
        {
            "ref": "uol",
            "name": "University of Liverpool",
            "kind": "academic_institution",
            "description": "A university with a public policy institute.",
            "website": "https://www.liverpool.ac.uk",
            "city": "Liverpool",
            "region": "Liverpool City Region",
            "country": "GB",
            "contacts": [
                {"name": "Alan Southern", "position": "Co-Director", "email": "alan@example.org"}
            ],
        },
        {
            "ref": "lcm",
            "name": "Liverpool City Mayor's Office",
            "kind": "public_agency",
            "description": "The office of the Mayor of Liverpool.",
            "city": "Liverpool",
            "region": "Liverpool City Region",
            "country": "GB",
        },
    ],
    "listings": [
        {
            "ref": "l1",
            "organisation": "uol",
            "kind": "offer",
            "title": "Research and evaluation",
            "description": "Evaluation and impact measurement for social enterprises.",
            "themes": ["research-evaluation", "knowledge-exchange"],
            "scope": "regional",
            "expires_on": "2030-06-30",
        },
        {
            "ref": "l2",
            "organisation": "lcm",
            "kind": "challenge",
            "title": "A social economy strategy",
            "description": "Shape the strategic direction of the city-region's social economy.",
            "themes": ["policy-strategy"],
            "scope": "regional",
            "sought_kinds": ["sse_organisation", "academic_institution"],
            "deadline": "2030-03-01",
        },
    ],
}


def _count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_import_creates_verified_organisations_and_listings(app: Flask) -> None:
    report = import_document(DOCUMENT)
    db.session.commit()
    assert report.created == {"organisations": 2, "listings": 2}
    uol = db.session.scalar(sa.select(Organisation).where(Organisation.name.startswith("Univ")))
    assert uol.status == OrganisationStatus.VERIFIED
    assert uol.contacts[0].position == "Co-Director"
    challenge = db.session.scalar(sa.select(Listing).where(Listing.kind == ListingKind.CHALLENGE))
    assert [k.value for k in challenge.sought_kinds] == ["academic_institution", "sse_organisation"]
    assert challenge.deadline.isoformat() == "2030-03-01"


def test_a_listing_keeps_its_language_through_import_and_export(app: Flask) -> None:
    document = json.loads(json.dumps(DOCUMENT))
    document["listings"][0]["language"] = "fr"
    import_document(document)
    db.session.commit()
    languages = {item["ref"]: item["language"] for item in export_document()["listings"]}
    assert sorted(languages.values()) == ["en", "fr"]  # English when the file says nothing


def test_an_organisation_keeps_its_language_through_import_and_export(app: Flask) -> None:
    document = json.loads(json.dumps(DOCUMENT))
    document["organisations"][0]["language"] = "el"
    import_document(document)
    db.session.commit()
    exported = export_document()
    assert {o["ref"]: o["language"] for o in exported["organisations"]} == {
        "liverpool-city-mayor-s-office-gb": "en",  # no listing in another language
        "university-of-liverpool-gb": "el",
    }
    # Imported again, an organisation whose file now says another language takes it.
    exported["organisations"][1]["language"] = "fr"
    assert import_document(exported).updated["organisations"] == 1
    db.session.commit()
    assert (
        db.session.scalar(
            sa.select(Organisation.language).where(Organisation.name == "University of Liverpool")
        )
        == "fr"
    )


def test_without_a_language_an_organisation_takes_its_listings_and_keeps_its_own(
    app: Flask,
) -> None:
    document = json.loads(json.dumps(DOCUMENT))
    extra = {**document["listings"][0], "title": "Évaluation et recherche", "language": "fr"}
    document["listings"][0]["language"] = "fr"
    document["listings"].append({**extra, "ref": "l3"})
    document["listings"].append({**extra, "ref": "l4", "title": "Research", "language": "en"})
    import_document(document)
    db.session.commit()

    def languages() -> dict[str, str]:
        rows = db.session.execute(sa.select(Organisation.name, Organisation.language))
        return dict(rows.all())

    assert languages() == {"University of Liverpool": "fr", "Liverpool City Mayor's Office": "en"}
    # A file that says nothing of it leaves an existing organisation's language as it is.
    document["listings"] = [{**item, "language": "en"} for item in document["listings"]]
    import_document(document)
    db.session.commit()
    assert languages()["University of Liverpool"] == "fr"


def test_importing_twice_changes_nothing(app: Flask) -> None:
    import_document(DOCUMENT)
    db.session.commit()
    counts = (_count(Organisation), _count(Listing), _count(ContactPerson))
    report = import_document(DOCUMENT)
    db.session.commit()
    assert not report.created and not report.updated
    assert report.unchanged == {"organisations": 2, "listings": 2}
    assert (_count(Organisation), _count(Listing), _count(ContactPerson)) == counts


def test_an_existing_organisation_is_updated_not_duplicated(app: Flask) -> None:
    import_document(DOCUMENT)
    db.session.commit()
    changed = json.loads(json.dumps(DOCUMENT))
    changed["organisations"][0]["city"] = "Birkenhead"
    report = import_document(changed)
    db.session.commit()
    assert report.updated["organisations"] == 1
    assert _count(Organisation) == 2


def test_unverified_flag_leaves_new_organisations_pending(app: Flask) -> None:
    import_document(DOCUMENT, verify=False)
    assert {o.status for o in db.session.scalars(sa.select(Organisation))} == {
        OrganisationStatus.PENDING
    }


def _problems(document: Any) -> list[str]:
    with pytest.raises(ImportRefused) as refused:
        import_document(document)
    return refused.value.problems.lines()


def test_every_problem_is_listed_by_its_place_and_nothing_is_saved(app: Flask) -> None:
    bad = json.loads(json.dumps(DOCUMENT))
    bad["organisations"][1]["country"] = "XX"
    bad["organisations"][0]["kind"] = "cartel"
    bad["listings"][0]["themes"] = ["research-evaluation", "foo"]
    bad["listings"][1]["deadline"] = "next spring"
    bad["listings"].append({**bad["listings"][0], "ref": "l3", "organisation": "nobody"})
    bad["listings"].append({**bad["listings"][0], "ref": "l4", "titel": "typo"})
    problems = _problems(bad)
    assert 'organisations[1].country: "XX" is not an ISO 3166-1 alpha-2 country code' in problems
    assert any(p.startswith('organisations[0].kind: "cartel" is not one of') for p in problems)
    assert 'listings[0].themes[1]: unknown theme "foo"' in problems
    assert 'listings[1].deadline: "next spring" is not a date like 2027-06-30' in problems
    assert 'listings[2].organisation: no organisation with ref "nobody"' in problems
    assert "listings[3].titel: unknown field" in problems
    db.session.rollback()
    assert _count(Organisation) == 0 and _count(Listing) == 0


def test_an_organisation_its_members_closed_is_not_brought_back_by_an_import(
    app: Flask,
) -> None:
    """Closing erased its contact people; importing a document that names it (a copy made
    before, another platform's export) would have put them back and changed its profile."""
    from matchmaker.privacy.erasure import close_organisation
    from tests.factories import PASSWORD, make_organisation, make_user

    owner = make_user()
    first = DOCUMENT["organisations"][0]
    university = make_organisation(
        owner=owner,
        name=first["name"],
        country=first["country"],
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
    )
    close_organisation(organisation=university, actor=owner, password=PASSWORD)
    db.session.commit()
    assert university.is_closed and _count(ContactPerson) == 0

    assert _problems(DOCUMENT) == [
        'organisations[0].name: "University of Liverpool" was closed by its members; '
        "an import cannot change it"
    ]
    db.session.rollback()
    assert _count(ContactPerson) == 0 and _count(Listing) == 0
    assert _count(Organisation) == 1  # the other organisation of the document was not made
    db.session.refresh(university)
    assert university.is_closed and university.description != first["description"]


def test_an_import_that_makes_a_public_agency_another_kind_closes_its_challenges(
    app: Flask,
) -> None:
    """Challenges are a public agency's, as when a coordinator accepts such a change: before,
    its open challenges stayed up and matched."""
    from matchmaker.listings.models import ListingStatus
    from tests.factories import make_listing, make_organisation

    first = DOCUMENT["organisations"][0]  # an academic institution in the document
    agency = make_organisation(
        name=first["name"], country=first["country"], kind=OrganisationKind.PUBLIC_AGENCY
    )
    challenge = make_listing(organisation=agency, kind=ListingKind.CHALLENGE)
    db.session.commit()

    import_document(DOCUMENT)
    db.session.commit()
    db.session.refresh(challenge)
    assert agency.kind == OrganisationKind.ACADEMIC_INSTITUTION
    assert challenge.status == ListingStatus.CLOSED


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            {
                "kind": "challenge",
                "organisation": "uol",
                "sought_kinds": ["sse_organisation"],
                "deadline": "2030-01-01",
            },
            "listings[0].kind: only a public_agency",
        ),
        ({"kind": "challenge", "organisation": "lcm"}, "listings[0].deadline: a challenge needs"),
        ({"themes": []}, "listings[0].themes: needs 1 to 3 themes"),
        (
            {"themes": ["funding", "information", "participation", "market-access"]},
            "listings[0].themes: has 4 themes; at most 3",
        ),
        ({"title": "x"}, "listings[0].title: must have 5 to 120 characters"),
        ({"sought_kinds": ["sse_organisation"]}, "listings[0].sought_kinds: only challenges"),
        ({"language": "xx"}, 'listings[0].language: "xx" is not one of en, fr'),
    ],
)
def test_listing_rules_are_checked(app: Flask, change: dict, expected: str) -> None:
    bad = json.loads(json.dumps(DOCUMENT))
    bad["listings"][0].update(change)
    assert any(p.startswith(expected) for p in _problems(bad)), _problems(bad)


def test_l3_imported_one_line_fields_refuse_control_characters(app: Flask) -> None:
    bad = json.loads(json.dumps(DOCUMENT))
    bad["organisations"][0]["name"] = "Evil Co-op\nBcc: everyone@example.org"
    bad["listings"][0]["title"] = "A need\twith a tab"
    bad["listings"][0]["description"] = "Two lines\nare fine in a description."
    problems = _problems(bad)
    one_line = "must be one line, without tabs or control characters"
    assert f"organisations[0].name: {one_line}" in problems
    assert f"listings[0].title: {one_line}" in problems
    assert not any(p.startswith("listings[0].description") for p in problems)


def test_not_a_document_is_refused(app: Flask) -> None:
    assert _problems([1, 2]) == [
        "(document): must be a JSON object with organisations and listings"
    ]


def test_export_import_export_round_trip(app: Flask, reference_rows: Any) -> None:
    import_document(DOCUMENT)
    from matchmaker.demo.cli import load_demo

    load_demo()
    db.session.commit()
    first = export_document()
    assert len(first["listings"]) > 10
    db.session.remove()
    clean_database(reference_rows)
    import_document(first)
    db.session.commit()
    assert export_document() == first


def test_csv_tables_round_trip(app: Flask, tmp_path: Path) -> None:
    import_document(DOCUMENT)
    db.session.commit()
    document = export_document()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["data", "export", "--format", "csv", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    # With the byte-order mark Excel needs to read Greek and Arabic, like the web's downloads.
    for table in ("organisations", "contacts", "listings"):
        assert (tmp_path / f"{table}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (tmp_path / "listings.csv").read_text().startswith("\ufeffref,organisation,kind,title")
    assert (
        "research-evaluation;knowledge-exchange" in (tmp_path / "listings.csv").read_text()
        or "knowledge-exchange;research-evaluation" in (tmp_path / "listings.csv").read_text()
    )
    result = runner.invoke(args=["data", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 2 unchanged" in result.output
    assert "match run" not in result.output  # nothing new to match
    assert export_document() == document


def test_cli_import_dry_run_and_errors(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(DOCUMENT))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["data", "import", "--dry-run", str(path)])
    assert result.exit_code == 0
    assert "match run" not in result.output
    assert "Dry run" in result.output and "organisations: 2 created" in result.output
    assert _count(Organisation) == 0
    bad = json.loads(json.dumps(DOCUMENT))
    bad["listings"][0]["themes"] = ["foo"]
    path.write_text(json.dumps(bad))
    result = runner.invoke(args=["data", "import", str(path)])
    assert result.exit_code != 0
    assert 'listings[0].themes[0]: unknown theme "foo"' in result.output
    assert "nothing was imported" in result.output
    assert _count(Organisation) == 0
    path.write_text("{not json")
    result = runner.invoke(args=["data", "import", str(path)])
    assert result.exit_code != 0 and "not valid JSON" in result.output


def test_cli_import_matches_what_it_imported_unless_asked_not_to(
    app: Flask, tmp_path: Path
) -> None:
    # The university's evaluation offer meets a need posted in the same file: the command
    # matches them as the Data page does, with one full run, and they are proposed.
    document = json.loads(json.dumps(DOCUMENT))
    document["listings"].append(
        {
            "ref": "l3",
            "organisation": "lcm",
            "kind": "need",
            "title": "Evaluate our social enterprise programme",
            "description": "Evaluation and impact measurement of our social enterprises.",
            "themes": ["research-evaluation"],
            "scope": "regional",
            "expires_on": "2030-06-30",
        }
    )
    path = tmp_path / "data.json"
    path.write_text(json.dumps(document))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["data", "import", "--no-match", str(path)])
    assert result.exit_code == 0, result.output
    assert "Run `flask --app wsgi match run`" in result.output
    assert _count(MatcherRun) == 0 and _count(Proposal) == 0

    # The same file again with one listing's text changed: an update is matched too.
    document["listings"][2]["description"] += " Partners in the city-region welcome."
    path.write_text(json.dumps(document))
    result = runner.invoke(args=["data", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "listings: 0 created, 1 updated" in result.output
    assert "1 proposals created" in result.output and "match run" not in result.output
    assert db.session.scalar(sa.select(MatcherRun.kind)) == RunKind.FULL
    [proposal] = db.session.scalars(sa.select(Proposal)).all()
    assert {party.listing.title for party in proposal.parties} == {
        "Research and evaluation",
        "Evaluate our social enterprise programme",
    }


def test_cli_import_says_the_file_is_saved_when_matching_it_fails(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matchmaker.matching import cli as matching_cli

    def failing(**_: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(matching_cli, "run_full", failing)
    path = tmp_path / "data.json"
    path.write_text(json.dumps(DOCUMENT))
    result = app.test_cli_runner().invoke(args=["data", "import", str(path)])
    assert result.exit_code != 0
    assert "The file is imported, but matching it failed" in result.output
    assert "disk full" in result.output and "match run" in result.output
    assert _count(Listing) == 2  # the import stays


def test_cli_export_writes_json(app: Flask, tmp_path: Path) -> None:
    import_document(DOCUMENT)
    db.session.commit()
    out = tmp_path / "export.json"
    result = app.test_cli_runner().invoke(args=["data", "export", "--out", str(out)])
    assert result.exit_code == 0
    assert json.loads(out.read_text()) == export_document()


# The web page, for coordinators ----------------------------------------------------------


@pytest.mark.parametrize("role, status", [(Role.MEMBER, 403), (Role.COORDINATOR, 200)])
def test_only_coordinators_import_and_export(
    client: FlaskClient, login: Any, role: Role, status: int
) -> None:
    login(make_user(role=role))
    assert client.get("/coordination/data").status_code == status
    assert client.get("/coordination/data/export.json").status_code == status
    assert client.get("/coordination/data/export/listings.csv").status_code == status


def test_coordinator_uploads_json(client: FlaskClient, login: Any) -> None:
    login(make_user(role=Role.COORDINATOR))
    upload = (io.BytesIO(json.dumps(DOCUMENT).encode()), "data.json")
    response = client.post(
        "/coordination/data/import", data={"file": upload}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The matcher runs again to match its listings." in page
    assert _count(Listing) == 2
    # A full run started once the import committed, and the page links to it.
    job = db.session.scalar(sa.select(Job).order_by(Job.id.desc()))
    assert job is not None and job.kind == FULL_RUN and job.status == JobStatus.FINISHED
    assert f"/coordination/jobs/{job.id}" in page
    assert db.session.scalar(sa.select(MatcherRun.kind)) == RunKind.FULL
    exported = client.get("/coordination/data/export.json")
    assert exported.headers["Content-Disposition"] == "attachment; filename=sse-matchmaker.json"
    assert len(exported.json["listings"]) == 2


def test_coordinator_sees_every_problem_of_a_bad_upload(client: FlaskClient, login: Any) -> None:
    login(make_user(role=Role.COORDINATOR))
    bad = json.loads(json.dumps(DOCUMENT))
    bad["listings"][1]["themes"] = ["policy-strategy", "foo"]
    response = client.post(
        "/coordination/data/import",
        data={"file": (io.BytesIO(json.dumps(bad).encode()), "data.json")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "listings[1].themes[1]: unknown theme &#34;foo&#34;" in page
    assert "nothing was imported" in page
    assert _count(Organisation) == 0


def test_coordinator_uploads_a_zip_of_csv_in_dry_run(client: FlaskClient, login: Any) -> None:
    login(make_user(role=Role.COORDINATOR))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, text in tables_from_document(
            {
                **DOCUMENT,
                "listings": [{**listing, "status": "open"} for listing in DOCUMENT["listings"]],
            }
        ).items():
            zipped.writestr(f"{name}.csv", text)
    archive.seek(0)
    response = client.post(
        "/coordination/data/import",
        data={"file": (archive, "tables.zip"), "dry_run": "y"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "The file is valid. Nothing was saved" in response.get_data(as_text=True)
    assert _count(Organisation) == 0


@pytest.mark.parametrize(
    "filename, body, message",
    [
        ("data.txt", b"hello", "Upload a .json file or a .zip"),
        ("data.json", b"{oops", "The file is not valid JSON"),
        ("data.zip", b"not a zip", "not a zip archive"),
    ],
)
def test_bad_uploads_are_explained(
    client: FlaskClient, login: Any, filename: str, body: bytes, message: str
) -> None:
    login(make_user(role=Role.COORDINATOR))
    response = client.post(
        "/coordination/data/import",
        data={"file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
