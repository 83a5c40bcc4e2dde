"""The matching settings and full runs apply to every territory: a territorial coordinator
reads them and may preview others, but neither saves them nor starts a full run."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core.models import Job
from matchmaker.extensions import db
from matchmaker.matching.models import MatchingSetting
from matchmaker.matching.settings import DEFAULTS
from tests.factories import make_user
from tests.territories.helpers import make_territorial_coordinator, make_territory

SAVE = "Save and re-run the matcher"
RUN = "Run the matcher on every listing"


def test_a_territorial_coordinator_reads_but_does_not_change_the_matching(
    app: Flask, client: FlaskClient, login: Any
) -> None:
    login(make_territorial_coordinator(make_territory(), language="en"))
    page = client.get("/coordination/matching").get_data(as_text=True)
    assert "These settings apply to every territory" in page
    assert SAVE not in page and RUN not in page

    assert client.post("/coordination/matching", data={"save": "1"}).status_code == 403
    assert client.post("/coordination/matching/run").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchingSetting)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    # A preview changes nothing: it stays open to them.
    chosen = {name: str(value) for name, value in DEFAULTS.as_dict().items()}
    preview = client.post("/coordination/matching", data=chosen | {"preview": "1"})
    assert preview.status_code == 302


def test_a_coordinator_of_every_territory_changes_them(
    app: Flask, client: FlaskClient, login: Any
) -> None:
    login(make_user(role=Role.COORDINATOR))
    page = client.get("/coordination/matching").get_data(as_text=True)
    assert SAVE in page and RUN in page
    assert "These settings apply to every territory" not in page
    assert client.post("/coordination/matching/run").status_code == 302
