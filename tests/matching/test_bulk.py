"""The full run's fast write path: chunks of multi-row inserts, ids reserved up front."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from matchmaker.demo.cli import load_demo
from matchmaker.extensions import db
from matchmaker.matching import bulk, engine
from matchmaker.matching.models import MatcherRun, RunKind
from matchmaker.matching.scoring import scorer_for
from matchmaker.matching.settings import load_settings
from matchmaker.matching.snapshot import full_snapshot
from matchmaker.proposals.models import Proposal, ProposalParty, ProposalStatus


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


def test_each_row_is_processed_before_the_next_one_is_read() -> None:
    # The engine writes each explanation only when its row is read: prepare() encodes it at
    # once, so none is held beyond its row (nor are they all encoded long after being made).
    events: list[str] = []

    class Recorded(sa.types.TypeDecorator[str]):
        impl = sa.String
        cache_ok = True

        def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
            events.append(f"processed {value}")
            return value

    table = sa.Table(
        "recorded", sa.MetaData(), sa.Column("id", sa.Integer), sa.Column("value", Recorded())
    )

    def rows() -> Iterator[tuple[int, str]]:
        for n in range(3):
            events.append(f"read {n}")
            yield n, str(n)

    prepared = bulk.prepare(sqlite.dialect(), table, ("id", "value"), rows(), {"value": "c"})
    assert events == [
        "read 0",
        "processed 0",
        "read 1",
        "processed 1",
        "read 2",
        "processed 2",
        "processed c",  # the constant, once
    ]
    assert prepared.by_column == [[0, 1, 2], ["0", "1", "2"]]
    assert prepared.constants == ["c"] and len(prepared) == 3


def _proposal(fingerprint: str, **fields: Any) -> Proposal:
    return Proposal(template="pair", score=50, explanation=[], fingerprint=fingerprint, **fields)


def test_ids_reserved_before_writing_do_not_collide_with_later_rows(app: Flask) -> None:
    # Rows already there: the reserved ids must come after them.
    db.session.add_all([_proposal(f"pair:old-{n}") for n in range(3)])
    db.session.commit()
    existing = set(db.session.scalars(sa.select(Proposal.id)))

    # As the engine does: write the run's row (on SQLite this takes the write lock), reserve,
    # and only then write the rows with the reserved ids.
    db.session.add(MatcherRun(kind=RunKind.FULL))
    db.session.flush()
    reserved = bulk.reserve_ids(db.session.connection(), Proposal.__table__, 3)
    assert len(set(reserved)) == 3 and not set(reserved) & existing

    # Meanwhile another connection adds a row of its own: PostgreSQL gives it the sequence's
    # next value at once; SQLite makes it wait for our write lock.
    later: list[int] = []

    def add_later_row(engine: sa.Engine) -> None:
        with Session(engine) as other:
            row = _proposal("pair:later")
            other.add(row)
            other.commit()
            later.append(row.id)

    writer = threading.Thread(target=add_later_row, args=(db.engine,))
    writer.start()
    writer.join(timeout=0.5)  # gives it the time to insert, or to start waiting
    db.session.add_all([_proposal(f"pair:reserved-{i}", id=i) for i in reserved])
    db.session.commit()
    writer.join(timeout=10)

    [later_id] = later
    assert later_id not in reserved and later_id not in existing
    assert set(db.session.scalars(sa.select(Proposal.id))) == existing | set(reserved) | {later_id}


def test_sqlite_refuses_to_reserve_ids_before_the_transaction_writes(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's sequences need no lock")
    # Without the write lock another writer could take the ids after the highest.
    db.session.execute(sa.select(Proposal.id)).all()
    with pytest.raises(AssertionError, match="write first"):
        bulk.reserve_ids(db.session.connection(), Proposal.__table__, 3)


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


def test_a_run_pauses_the_garbage_collector_and_gives_it_back_even_on_error() -> None:
    assert gc.isenabled()
    with engine.batch_memory():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), engine.batch_memory():
        raise RuntimeError("a failing run")
    assert gc.isenabled()


def test_explanations_from_the_scores_fractions_are_the_plain_ones(app: Flask) -> None:
    # A candidate keeps how the rules fired on each link when it was scored, and its
    # explanation reuses them; worked out again from the links alone, they explain the same.
    load_demo()
    db.session.commit()
    snapshot, settings = full_snapshot(), load_settings()
    planned = engine.plan(snapshot, settings)
    assert any(c.fractions is not None for c in planned.create)
    assert any(c.coverage is not None for c in planned.create)
    for candidate in planned.create:
        scorer = scorer_for(settings, multi=candidate.coverage is not None)
        plain = scorer.explain(snapshot, candidate.links, candidate.coverage)
        assert candidate.explanation(snapshot, settings) == plain
