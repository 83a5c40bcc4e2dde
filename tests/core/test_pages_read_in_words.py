"""What a usability walk through the pages in each language found: codes, slugs and English
where the reader expects words of their own language, and an empty frame beside the listing
form."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_babel.speaklater import LazyString

from matchmaker.accounts.models import Role
from matchmaker.core.audit import record_event
from matchmaker.core.i18n import format_list
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching.engine import run_full
from matchmaker.matching.explanations import Reader
from matchmaker.matching.models import MatcherRun, RunKind, RunStatus
from matchmaker.matching.templates import TEMPLATES
from matchmaker.notifications.models import Notification
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.forms import MatchingSettingsForm
from matchmaker.proposals.models import Proposal
from matchmaker.proposals.services import approve_proposal
from tests.factories import make_listing, make_organisation, make_user
from tests.territories.helpers import make_territory


def test_the_audit_trail_names_a_territory_in_the_readers_language(
    client: FlaskClient, login: Any
) -> None:
    coordinator = make_user(role=Role.COORDINATOR, language="el")
    territory = make_territory()
    event = record_event("territory:create", actor=coordinator, subject=territory)
    # As events about a territory were recorded before "territories" lost only its "s".
    old = record_event("territory:update", actor=coordinator, subject=territory)
    old.subject_type = "territorie"
    db.session.commit()
    assert event.subject_type == "territory"

    login(coordinator)
    page = client.get("/coordination/audit").get_data(as_text=True)
    assert "territorie" not in page
    assert f"Περιοχή {territory.id}" in page
    assert page.count('<option value="territory"') == 1
    found = client.get("/coordination/audit?subject=territory").get_data(as_text=True)
    assert found.count(f"Περιοχή {territory.id}") == 2


def test_the_matchers_runs_and_settings_are_told_in_words(
    client: FlaskClient, login: Any, app: Flask
) -> None:
    db.session.add(MatcherRun(kind=RunKind.FULL, status=RunStatus.FINISHED, listings_considered=3))
    db.session.commit()
    login(make_user(role=Role.COORDINATOR))
    page = client.get("/coordination/matching").get_data(as_text=True)
    row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", page, re.S)
    assert row is not None
    assert "Every open listing" in row.group(1) and "Finished" in row.group(1)
    assert ">full<" not in row.group(1) and ">finished<" not in row.group(1)
    with app.test_request_context():
        form = MatchingSettingsForm.build(meta={"csrf": False})
        description = next(iter(form)).description
    assert isinstance(description, LazyString)  # marked for translation, not an f-string in English
    with app.test_request_context():
        assert re.fullmatch(r"\d+–\d+; default \d+", str(description))


def test_unmet_needs_name_their_themes_and_country(client: FlaskClient, login: Any) -> None:
    agency = make_organisation(kind=OrganisationKind.PUBLIC_AGENCY, country="GB")
    make_listing(organisation=agency, themes=("research-evaluation", "basic-needs"))
    login(make_user(role=Role.COORDINATOR))
    csv = client.get("/coordination/dashboard/unmet_needs.csv").get_data(as_text=True)
    assert "research-evaluation" not in csv and "basic-needs" not in csv
    assert "Research, evaluation and impact measurement" in csv
    assert "United Kingdom" in csv
    assert ";" not in csv  # a question mark in Greek
    client.set_cookie("language", "el")
    page = client.get("/coordination/dashboard").get_data(as_text=True)
    assert "υποστήριξη και Έρευνα" in page or "αντικτύπου και Στέγαση" in page


def test_the_similar_listings_box_is_empty_until_there_is_something_to_say(
    client: FlaskClient, login: Any
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner)
    login(owner)
    page = client.get(f"/organisations/{organisation.id}/listings/new/need").get_data(as_text=True)
    # Nothing between the tags, not even a space, or CSS's :empty keeps drawing its frame.
    assert re.search(r'<aside class="similar" id="similar"[^>]*></aside>', page)


def test_a_place_is_written_with_the_readers_comma(client: FlaskClient) -> None:
    organisation = make_organisation(city="Tangier", region="Tanger-Tetouan-Al Hoceima")
    organisation.country = "MA"
    db.session.commit()
    client.set_cookie("language", "ar")
    page = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    assert '<span dir="auto">Tangier</span>، <span dir="auto">' in page
    assert "</span>, " not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_my_proposals_says_once_that_nothing_was_introduced_and_links_to_why(
    client: FlaskClient, login: Any
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner)
    need = make_listing(organisation=organisation, title="Evaluation of our kitchens")
    login(owner)
    page = client.get("/my/proposals").get_data(as_text=True)
    assert "No coordinator has introduced your organisations to partners yet." in page
    assert "Waiting for your answer (0)" not in page and page.count("None.") == 0
    assert f'href="/listings/{need.id}#matching-status">Why no partner yet?</a>' in page
    reasons = client.get(f"/listings/{need.id}").get_data(as_text=True)
    assert 'id="matching-status"' in reasons and "No partner proposed yet." in reasons


def test_an_organisations_web_address_and_contacts_read_well_right_to_left(
    client: FlaskClient,
) -> None:
    organisation = make_organisation(
        website="https://example.org/heseltine/",
        contacts=[{"name": "Alan Southern", "position": "Co-Director"}],
    )
    client.set_cookie("language", "ar")
    page = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    # Without dir="ltr" the address's closing slash stood before it in an Arabic page.
    assert 'rel="noopener nofollow" dir="ltr">https://example.org/heseltine/</a>' in page
    assert '<strong dir="auto">Alan Southern</strong>، <span dir="auto">Co-Director</span>' in page


def test_notifications_list_the_parties_as_each_readers_language_does(app: Flask) -> None:
    reader_en, reader_ar = make_user(language="en"), make_user(language="ar")
    network = make_organisation(name="Network, Liverpool", owner=reader_en)
    university = make_organisation(
        name="University", kind=OrganisationKind.ACADEMIC_INSTITUTION, owner=reader_ar
    )
    for organisation, kind in ((network, ListingKind.NEED), (university, ListingKind.OFFER)):
        make_listing(
            organisation=organisation,
            kind=kind,
            themes=("research-evaluation", "knowledge-exchange"),
            title="Research and evaluation of our programmes",
            description="Researchers evaluate the social programmes of the network.",
        )
    run_full()
    db.session.commit()
    proposal = db.session.scalar(sa.select(Proposal))
    assert proposal is not None
    with app.test_request_context(), force_locale("el"):  # the coordinator reads Greek
        approve_proposal(
            proposal=proposal, actor=make_user(role=Role.COORDINATOR), expected_version=None
        )
    db.session.commit()
    told = {
        n.user_id: n.message
        for n in db.session.scalars(
            sa.select(Notification).where(Notification.kind.like("%intro%"))
        )
    }
    names = {"Network, Liverpool", "University"}
    assert any(f"{a} and {b}" in told[reader_en.id] for a in names for b in names - {a})
    assert " و" in told[reader_ar.id] and "και" not in told[reader_ar.id]


def test_a_latin_name_in_an_arabic_table_or_list_keeps_the_columns_alignment(
    client: FlaskClient, login: Any
) -> None:
    """A cell or value that is dir="auto" aligns a Latin name to the left of an Arabic page,
    far from its label (a listing's "Posted by" stood at the other edge of the page); the
    name is isolated in a span instead, and the cell keeps the page's alignment."""
    owner = make_user(display_name="Rosie Jolly", language="ar")
    organisation = make_organisation(owner=owner)
    listing = make_listing(organisation=organisation, created_by=owner)
    login(owner)
    for path in (
        f"/listings/{listing.id}",
        f"/organisations/{organisation.id}/members",
        "/account",
    ):
        page = client.get(path).get_data(as_text=True)
        assert '<span dir="auto">Rosie Jolly</span>' in page, path
        assert not re.search(r'<(td|dd) dir="auto"', page), path


def test_a_named_shapes_roles_are_separated_as_the_readers_language_separates_clauses(
    app: Flask,
) -> None:
    """';' is the question mark in Greek: the roles of the São Paulo and Tangier models are
    separated by the Greek semicolon (·), the Arabic one (؛) or ';'."""
    template = TEMPLATES["incubation_procurement"]
    slots = {slot.role: ["Incubator, NGO", "Kitchen"] for slot in template.shape.slots}
    params = {"anchor": "Municipality", "slots": slots}
    for language, separator in (("el", "· "), ("ar", "؛ "), ("en", "; ")):
        with app.test_request_context(), force_locale(language):
            sentence = template.coverage_sentence(params, Reader({}))
        assert sentence.count(separator) == len(slots) - 1, (language, sentence)
        if language != "en":
            assert "; " not in sentence, (language, sentence)


def test_spanish_lists_say_e_before_an_i_sound(app: Flask) -> None:
    with app.test_request_context(), force_locale("es"):
        assert format_list(["Formación", "Información"]) == "Formación e Información"
        assert format_list(["A", "Innovación", "Hilo"]) == "A, Innovación e Hilo"
        assert format_list(["Agua", "Hierro"]) == "Agua y Hierro"  # /je/, not /i/
        assert format_list(["Una"]) == "Una"
