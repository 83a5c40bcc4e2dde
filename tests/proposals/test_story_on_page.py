"""The proposal page: the explanation's story comes before its table of points."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching.engine import run_full
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import Proposal
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.test_review_and_introductions import _as, world

__all__ = ["world"]  # the fixture, shared with the review tests


def test_the_proposal_page_tells_the_story_before_the_table(app: Flask, world: dict) -> None:
    page = _as(app, world["coordinator"]).get(f"/proposals/{world['proposal'].id}")
    text = page.get_data(as_text=True)
    story = text.split('<p class="story">')[1].split("</p>")[0]
    assert (
        "University of Liverpool can bring Social Enterprise Network what it is looking for"
        in story
    )
    assert "University of Liverpool brings “Research and evaluation”." in story
    assert text.index('<p class="story">') < text.index('<table class="table explanation">')


def test_each_partys_role_reads_in_the_readers_language(app: Flask) -> None:
    """The tag above each party says what it brings, translated, never a role's code."""
    network = make_organisation(name="Network")
    university = make_organisation(name="University", kind=OrganisationKind.ACADEMIC_INSTITUTION)
    themes = ("research-evaluation", "knowledge-exchange")
    make_listing(organisation=network, themes=themes, title="Evaluation of our programmes")
    make_listing(organisation=university, kind=ListingKind.OFFER, themes=themes, title="Evaluation")
    run_full()
    coordinator = make_user(role=Role.COORDINATOR, language="fr")
    db.session.commit()
    [proposal] = db.session.scalars(sa.select(Proposal))
    page = _as(app, coordinator).get(f"/proposals/{proposal.id}").get_data(as_text=True)
    tags = [tag.split("</p>")[0] for tag in page.split('<p class="kind-tag">')[1:]]
    assert tags == ["Paire", "a publié le besoin", "a publié l'offre"]  # the template's name too
