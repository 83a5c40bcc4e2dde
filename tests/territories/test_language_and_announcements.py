"""A territory's default language comes after the reader's own choice and before the browser's;
an announcement kept to a territory reaches that territory's organisations only."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale, gettext

from matchmaker.accounts.models import EmailPreference, Role
from matchmaker.announcements import services
from matchmaker.announcements.models import Announcement, AnnouncementKind, Audience
from matchmaker.core.errors import DomainError
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.notifications.models import Notification
from matchmaker.organisations.models import OrganisationKind
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in
from tests.territories.helpers import (
    make_city_region,
    make_territorial_coordinator,
    make_territory,
)


def _lang(page: str) -> str:
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_a_territory_page_speaks_the_territory_language_unless_the_reader_chose(
    app: Flask,
) -> None:
    make_territory()
    visitor = app.test_client()
    french = {"Accept-Language": "fr"}
    assert _lang(visitor.get("/t/attica", headers=french).get_data(as_text=True)) == "el"
    assert _lang(visitor.get("/", headers=french).get_data(as_text=True)) == "fr"
    chooser = signed_in(app, make_user(language="es"))
    assert _lang(chooser.get("/t/attica", headers=french).get_data(as_text=True)) == "es"


def test_a_member_in_a_territory_reads_its_language_by_default(app: Flask) -> None:
    make_territory()
    athenian = make_user()
    make_organisation(owner=athenian, city="Athens", region="Attica", country="GR")
    page = signed_in(app, athenian).get("/", headers={"Accept-Language": "en"})
    assert _lang(page.get_data(as_text=True)) == "el"
    elsewhere = make_user()
    make_organisation(owner=elsewhere)  # Liverpool: no territory here
    page = signed_in(app, elsewhere).get("/", headers={"Accept-Language": "pt"})
    assert _lang(page.get_data(as_text=True)) == "pt"


def _member_in(city: str, region: str) -> Any:
    owner = make_user()
    organisation = make_organisation(owner=owner, city=city, region=region, country="GR")
    make_listing(organisation=organisation, kind=ListingKind.OFFER, themes=("funding",))
    return owner


def _notified(user: Any) -> bool:
    return (
        db.session.scalar(
            sa.select(Notification.id).where(
                Notification.user_id == user.id, Notification.kind == "announcement"
            )
        )
        is not None
    )


VALUES: dict[str, Any] = {
    "kind": AnnouncementKind.FUNDING_CALL,
    "audience": Audience.EVERYONE,
    "title": "Attica social economy fund",
    "body": "Grants for SSE projects in the region, first round closes next month.",
    "themes": ["funding"],
    "ends_on": date.today() + timedelta(days=30),
}


def test_a_territorial_coordinators_announcement_reaches_the_territory_only(app: Flask) -> None:
    attica = make_territory()
    eleni = make_territorial_coordinator(attica)
    athens = _member_in("Athens", "Attica")
    thessaloniki = _member_in("Thessaloniki", "Central Macedonia")
    announcement = services.create_announcement(author=eleni, organisation=None, **VALUES)
    db.session.commit()  # delivered after this commit
    assert announcement.territory == attica and announcement.country == "GR"
    assert _notified(athens) and not _notified(thessaloniki)


def test_an_announcement_without_territory_reaches_its_country(app: Flask) -> None:
    make_territory()
    chris = make_user(role=Role.COORDINATOR)
    athens = _member_in("Athens", "Attica")
    thessaloniki = _member_in("Thessaloniki", "Central Macedonia")
    services.create_announcement(author=chris, organisation=None, country="GR", **VALUES)
    db.session.commit()
    assert _notified(athens) and _notified(thessaloniki)


def _form(**fields: str) -> dict[str, Any]:
    return {
        "kind": "funding_call",
        "title": "Attica procurement day",
        "body": "Public buyers of Attica meet social enterprises on the first of the month.",
        "themes": ["funding"],
        "audience": "everyone",
        "ends_on": (date.today() + timedelta(days=9)).isoformat(),
        **fields,
    }


def test_a_territorial_coordinator_cannot_post_for_another_territory(app: Flask) -> None:
    attica = make_territory()
    lcr = make_city_region()
    eleni = make_territorial_coordinator(attica)
    with pytest.raises(DomainError):
        services.create_announcement(author=eleni, organisation=None, territory=lcr, **VALUES)
    # Through the form: only her territory is offered.
    client = signed_in(app, eleni)
    page = client.get("/announcements/new").get_data(as_text=True)
    offered = re.search(r'<select[^>]*name="territory".*?</select>', page, re.S)
    assert offered is not None
    assert re.findall(r'value="(\d*)"', offered.group(0)) == [str(attica.id)]
    response = client.post(
        "/announcements/new",
        data=_form(organisation="0", territory=str(lcr.id)),
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(Announcement.id)) is None


def test_a_public_agency_keeps_its_announcement_to_a_territory(app: Flask) -> None:
    attica = make_territory()
    officer = make_user()
    agency = make_organisation(
        owner=officer,
        kind=OrganisationKind.PUBLIC_AGENCY,
        city="Athens",
        region="Attica",
        country="GR",
    )
    athens = _member_in("Piraeus", "Attica")
    thessaloniki = _member_in("Thessaloniki", "Central Macedonia")
    client = signed_in(app, officer)
    response = client.post(
        "/announcements/new",
        data=_form(organisation=str(agency.id), territory=str(attica.id)),
    )
    assert response.status_code == 302
    assert _notified(athens) and not _notified(thessaloniki)


def test_mail_goes_out_in_the_territorys_language_to_who_chose_none(
    app: Flask, outbox: Any
) -> None:
    """An announcement mailed at once: in Greek to a member of Attica who chose no language,
    in the chosen language to one who did, and in the default one outside any territory."""
    make_territory()
    athenian, chooser = _member_in("Athens", "Attica"), _member_in("Piraeus", "Attica")
    chooser.language = "fr"
    outsider = _member_in("Thessaloniki", "Central Macedonia")
    for user in (athenian, chooser, outsider):
        user.email_preference = EmailPreference.IMMEDIATE
    agency = make_organisation(
        owner=make_user(), kind=OrganisationKind.PUBLIC_AGENCY, country="GR", city="Athens"
    )
    services.create_announcement(author=agency.memberships[0].user, organisation=agency, **VALUES)
    db.session.commit()
    subjects = {
        user.email: str(outbox.to(user.email)[0]["Subject"]).strip()
        for user in (athenian, chooser, outsider)
    }

    def subject_in(language: str) -> str:
        with app.test_request_context(), force_locale(language):
            return gettext("New announcement: %(title)s", title=VALUES["title"])

    assert subjects == {
        athenian.email: subject_in("el"),
        chooser.email: subject_in("fr"),
        outsider.email: subject_in("en"),
    }
    assert subject_in("el") != subject_in("en")
