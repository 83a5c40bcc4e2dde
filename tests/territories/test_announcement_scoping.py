"""A territorial coordinator withdraws, and reads once ended, only the announcements of their
territory (kept to it, or posted by one of its organisations); others' are not theirs to decide."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask

from matchmaker.accounts.models import Role
from matchmaker.announcements import services
from matchmaker.announcements.models import (
    Announcement,
    AnnouncementKind,
    AnnouncementStatus,
    Audience,
)
from matchmaker.extensions import db
from matchmaker.organisations.models import OrganisationKind
from tests.factories import make_organisation, make_user
from tests.proposals.helpers import signed_in
from tests.territories.helpers import make_territorial_coordinator, make_territory


def _announcement(author: Any, organisation: Any) -> Announcement:
    announcement = services.create_announcement(
        author=author,
        organisation=organisation,
        kind=AnnouncementKind.EVENT,
        audience=Audience.EVERYONE,
        title="Social economy fair",
        body="A day for social enterprises to meet public buyers and each other.",
        themes=["market-access"],
        ends_on=date.today() + timedelta(days=20),
    )
    db.session.commit()
    return announcement


def test_a_territorial_coordinator_withdraws_only_their_territorys(app: Flask) -> None:
    attica = make_territory()
    eleni = make_territorial_coordinator(attica)
    athens_officer, liverpool_officer = make_user(), make_user()
    athens = make_organisation(
        owner=athens_officer,
        kind=OrganisationKind.PUBLIC_AGENCY,
        city="Athens",
        region="Attica",
        country="GR",
    )
    liverpool = make_organisation(owner=liverpool_officer, kind=OrganisationKind.PUBLIC_AGENCY)
    inside = _announcement(athens_officer, athens)
    outside = _announcement(liverpool_officer, liverpool)
    client = signed_in(app, eleni)

    assert client.post(f"/announcements/{outside.id}/withdraw").status_code == 403
    assert client.post(f"/announcements/{inside.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.get(Announcement, outside.id).status == AnnouncementStatus.PUBLISHED
    assert db.session.get(Announcement, inside.id).status == AnnouncementStatus.WITHDRAWN
    # Withdrawn, it stays readable by coordinators of its territory, and by untethered ones.
    liverpool_withdrawn = _announcement(liverpool_officer, liverpool)
    services.withdraw_announcement(announcement=liverpool_withdrawn, actor=liverpool_officer)
    db.session.commit()
    assert client.get(f"/announcements/{inside.id}").status_code == 200
    assert client.get(f"/announcements/{liverpool_withdrawn.id}").status_code == 404
    chris = signed_in(app, make_user(role=Role.COORDINATOR))
    assert chris.get(f"/announcements/{liverpool_withdrawn.id}").status_code == 200
