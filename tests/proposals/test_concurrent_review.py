"""Two coordinators decide at once, in two database sessions: exactly one decision lands."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching.engine import run_full
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.conftest import is_postgres
from tests.factories import make_listing, make_organisation

pytestmark = pytest.mark.skipif(not is_postgres(), reason="needs two real concurrent sessions")


def test_only_one_of_two_concurrent_decisions_is_recorded(app: Flask) -> None:
    make_listing(themes=("research-evaluation",))
    make_listing(
        kind=ListingKind.OFFER,
        themes=("research-evaluation",),
        organisation=make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION),
    )
    run_full()
    db.session.commit()
    proposal_id = db.session.scalar(sa.select(Proposal.id))
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with Session(engine) as first, Session(engine) as second:
        mine = first.get(Proposal, proposal_id)
        theirs = second.get(Proposal, proposal_id)
        assert mine.version == theirs.version == 1
        mine.status = ProposalStatus.APPROVED
        theirs.status = ProposalStatus.REJECTED
        first.commit()
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    engine.dispose()
    db.session.expire_all()
    proposal = db.session.get(Proposal, proposal_id)
    assert (proposal.status, proposal.version) == (ProposalStatus.APPROVED, 2)
