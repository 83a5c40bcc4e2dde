"""The full run's fast write path: chunks written on a second thread, ids reserved up front."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.demo.cli import load_demo
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching import bulk, engine
from matchmaker.matching.models import MatcherRun, RunKind
from matchmaker.matching.settings import load_settings
from matchmaker.matching.snapshot import full_snapshot
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import Proposal, ProposalParty, ProposalStatus
from tests.factories import make_listing, make_organisation


def _stored() -> dict[str, tuple[int, list[tuple[int, int, str, int]], list[dict[str, Any]]]]:
    result = {}
    for proposal in db.session.scalars(sa.select(Proposal)):
        parties = [
            (party.listing_id, party.organisation_id, party.role, party.position)
            for party in sorted(proposal.parties, key=lambda p: p.position)
        ]
        result[proposal.fingerprint] = (proposal.score, parties, proposal.explanation)
    return result


def test_many_small_chunks_write_exactly_what_was_planned(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo()
    db.session.commit()
    snapshot, settings = full_snapshot(), load_settings()
    planned = engine.plan(snapshot, settings)
    expected = {
        c.fingerprint: (
            c.score,
            [(p.listing.id, p.listing.org_id, p.role, n) for n, p in enumerate(c.parties)],
            c.explanation(snapshot, settings),
        )
        for c in planned.create
    }
    assert len(expected) > 7
    # Chunks of 3 proposals, statements of 2 rows: every boundary is crossed many times.
    monkeypatch.setattr(engine, "CHUNK", 3)
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 2)
    run = engine.run_full()
    db.session.commit()
    db.session.expire_all()

    assert _stored() == expected
    assert run.proposals_created == len(expected)
    proposal = db.session.scalars(sa.select(Proposal).order_by(Proposal.id)).first()
    assert proposal is not None and proposal.status == ProposalStatus.PENDING_REVIEW
    assert proposal.matcher_run_id == run.id and proposal.version == 1


def test_ids_reserved_before_writing_do_not_collide_with_later_rows(app: Flask) -> None:
    themes = ("research-evaluation", "knowledge-exchange")
    make_listing(
        organisation=make_organisation(name="Network"),
        themes=themes,
        description="We need researchers to evaluate our cooperative programmes.",
    )
    make_listing(
        organisation=make_organisation(
            name="University", kind=OrganisationKind.ACADEMIC_INSTITUTION
        ),
        kind=ListingKind.OFFER,
        themes=themes,
        description="Researchers who evaluate cooperative programmes.",
    )
    db.session.commit()
    engine.run_full()
    db.session.commit()
    [first] = db.session.scalars(sa.select(Proposal)).all()
    # As the engine does: write (and so hold SQLite's write lock), then reserve.
    db.session.add(MatcherRun(kind=RunKind.FULL, started_at=first.created_at))
    db.session.flush()
    ids = bulk.reserve_ids(db.session.connection(), Proposal.__table__, 3)
    assert len(set(ids)) == 3 and min(ids) > first.id
    db.session.rollback()
    # A row the ORM adds afterwards gets an id of its own, on every database.
    later = Proposal(template="pair", score=50, explanation=[], fingerprint="pair:later")
    db.session.add(later)
    db.session.flush()
    assert later.id != first.id


def test_an_error_while_writing_reaches_the_run_and_nothing_is_kept(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo()
    db.session.commit()
    monkeypatch.setattr(engine, "CHUNK", 2)
    calls = []
    execute = bulk.Prepared.execute

    def failing(self: bulk.Prepared, connection: sa.Connection) -> None:
        calls.append(self.table.name)
        if len(calls) == 3:  # the second chunk's proposals
            raise sa.exc.IntegrityError("INSERT", {}, Exception("disk on fire"))
        execute(self, connection)

    monkeypatch.setattr(bulk.Prepared, "execute", failing)
    with pytest.raises(sa.exc.IntegrityError, match="disk on fire"):
        engine.run_full()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProposalParty)) == 0
