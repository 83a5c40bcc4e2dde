from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, ListingStatus, Scope
from matchmaker.matching.engine import run_full
from matchmaker.matching.explanations import render as render_explanation
from matchmaker.matching.models import MatcherRun, RunKind
from matchmaker.matching.settings import MatchSettings
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.factories import make_listing, make_organisation, make_user


def proposals(status: ProposalStatus | None = None) -> list[Proposal]:
    statement = sa.select(Proposal).order_by(Proposal.id)
    if status is not None:
        statement = statement.where(Proposal.status == status)
    return list(db.session.scalars(statement))


def _run(**kwargs: Any) -> MatcherRun:
    run = run_full(**kwargs)
    db.session.commit()
    return run


@pytest.fixture
def pair() -> tuple[Any, Any]:
    network = make_organisation(name="Network")
    university = make_organisation(name="University", kind=OrganisationKind.ACADEMIC_INSTITUTION)
    need = make_listing(
        organisation=network,
        themes=("research-evaluation", "knowledge-exchange"),
        title="Evaluation of our programmes",
        description="We need researchers to evaluate our cooperative programmes.",
    )
    offer = make_listing(
        organisation=university,
        kind=ListingKind.OFFER,
        themes=("research-evaluation", "knowledge-exchange"),
        title="Research and evaluation",
        description="Researchers who evaluate cooperative programmes.",
    )
    return need, offer


def test_a_full_run_proposes_and_records_itself(app: Flask, pair: tuple) -> None:
    run = _run()
    [proposal] = proposals()
    assert proposal.status == ProposalStatus.PENDING_REVIEW
    assert proposal.fingerprint == f"pair:{min(p.id for p in pair)}-{max(p.id for p in pair)}"
    assert sum(item["points"] for item in proposal.explanation) == proposal.score
    rules = {item["rule"] for item in proposal.explanation}
    assert {"shared_themes", "proximity", "complementary_kinds"} <= rules
    assert (run.kind, run.listings_considered, run.proposals_created) == (RunKind.FULL, 2, 1)
    # Written by the bulk path, read back by the ORM: the same aware UTC timestamps.
    assert proposal.created_at.tzinfo is not None
    assert abs((proposal.created_at - run.started_at).total_seconds()) < 60
    assert proposal.parties[0].created_at == proposal.created_at
    assert run.candidates_scored >= 1 and run.finished_at >= run.started_at


def test_runs_log_their_start_and_end_with_counts(
    app: Flask, pair: tuple, caplog: pytest.LogCaptureFixture
) -> None:
    from matchmaker.matching.engine import match_listing

    caplog.set_level(logging.INFO, logger="matchmaker.matching.engine")
    full = _run()
    need, _offer = pair
    need.title = "Evaluation of our programmes, with their participants"
    incremental = match_listing(need)
    assert incremental is not None
    records = [r for r in caplog.records if r.name == "matchmaker.matching.engine"]
    assert [(r.run_id, r.run_kind, r.getMessage().split(": ")[0]) for r in records] == [
        (full.id, "full", f"matcher run {full.id} (full) started"),
        (full.id, "full", f"matcher run {full.id} (full) finished"),
        (incremental.id, "incremental", f"matcher run {incremental.id} (incremental) started"),
        (incremental.id, "incremental", f"matcher run {incremental.id} (incremental) finished"),
    ]
    end = records[1]
    assert (end.listings_considered, end.proposals_created, end.proposals_withdrawn) == (2, 1, 0)
    assert end.candidates_scored == full.candidates_scored >= 1
    assert end.getMessage().endswith(
        f"2 listings, {full.candidates_scored} candidates scored, 1 proposed, 0 withdrawn"
    )
    assert records[2].focus_listing == need.id


def test_a_second_run_creates_nothing(app: Flask, pair: tuple) -> None:
    _run()
    second = _run()
    assert second.proposals_created == 0
    assert len(proposals()) == 1


@pytest.mark.parametrize(
    "spoil",
    [
        lambda need, offer: setattr(offer, "status", ListingStatus.CLOSED),
        lambda need, offer: setattr(offer, "status", ListingStatus.PAUSED),
        lambda need, offer: setattr(need, "expires_on", date.today() - timedelta(days=1)),
        lambda need, offer: setattr(offer.organisation, "status", OrganisationStatus.PENDING),
        lambda need, offer: setattr(offer.organisation, "status", OrganisationStatus.SUSPENDED),
        lambda need, offer: setattr(offer, "organisation", need.organisation),
    ],
)
def test_hard_rules_exclude(app: Flask, pair: tuple, spoil: Any) -> None:
    spoil(*pair)
    db.session.commit()
    _run()
    assert proposals() == []


def test_geography_outside_a_scope_is_excluded(app: Flask) -> None:
    need = make_listing(themes=("funding",), scope=Scope.REGIONAL)
    athens = make_organisation(
        city="Athens", region="Attica", country="GR", kind=OrganisationKind.PUBLIC_AGENCY
    )
    make_listing(
        organisation=athens, kind=ListingKind.OFFER, themes=("funding",), scope=Scope.INTERNATIONAL
    )
    _run()
    assert proposals() == []
    need.scope = Scope.INTERNATIONAL
    db.session.commit()
    _run()
    assert len(proposals()) == 1


def test_a_rejected_pair_is_never_proposed_again(app: Flask, pair: tuple) -> None:
    _run()
    [proposal] = proposals()
    proposal.status = ProposalStatus.REJECTED
    db.session.commit()
    pair[1].title = "Research and evaluation, renewed"
    db.session.commit()
    _run()
    assert proposals(ProposalStatus.PENDING_REVIEW) == []


def test_a_declined_pair_blocks_partnerships_that_contain_it(app: Flask) -> None:
    from matchmaker.demo.cli import load_demo

    load_demo()
    db.session.commit()
    _run()
    triad = next(
        p
        for p in proposals()
        if p.template == "knowledge_exchange_triad"
        and "Social Enterprise Network" in {x.organisation.name for x in p.parties}
    )
    sen, university = triad.parties[0], triad.parties[1]
    pair = next(
        p
        for p in proposals()
        if p.template == "pair"
        and {x.listing_id for x in p.parties} == {sen.listing_id, university.listing_id}
    )
    pair.status = ProposalStatus.DECLINED
    triad.status = ProposalStatus.WITHDRAWN
    db.session.commit()
    _run()
    db.session.refresh(triad)
    assert triad.status == ProposalStatus.WITHDRAWN


def test_each_listing_gets_at_most_the_cap(app: Flask) -> None:
    need = make_listing(themes=("training-advice",))
    for _ in range(4):
        make_listing(
            kind=ListingKind.OFFER,
            themes=("training-advice",),
            organisation=make_organisation(kind=OrganisationKind.CIVIL_SOCIETY),
        )
    _run(settings=MatchSettings.of(max_proposals_per_listing=2, min_score=0))
    live = [p for p in proposals() if need.id in p.listing_ids]
    assert len(live) == 2
    scores = sorted((p.score for p in live), reverse=True)
    assert scores == [p.score for p in sorted(live, key=lambda p: -p.score)]


def test_closing_withdraws_and_reopening_revives(app: Flask, pair: tuple) -> None:
    from matchmaker.listings.services import change_status

    _run()
    need, _offer = pair
    change_status(listing=need, actor=None, action="close")
    db.session.commit()
    [proposal] = proposals()
    assert proposal.status == ProposalStatus.WITHDRAWN
    assert "closed" in proposal.withdrawn_reason
    change_status(listing=need, actor=None, action="reopen")
    db.session.commit()
    db.session.refresh(proposal)
    assert proposal.status == ProposalStatus.PENDING_REVIEW


def test_posting_a_need_on_the_web_creates_its_proposals_at_once(
    client: FlaskClient, login: Any
) -> None:
    university = make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION)
    make_listing(
        organisation=university,
        kind=ListingKind.OFFER,
        themes=("research-evaluation",),
        title="Impact evaluation offer",
    )
    member = make_user()
    network = make_organisation(owner=member)
    login(member)
    response = client.post(
        f"/organisations/{network.id}/listings/new/need",
        data={
            "title": "Impact evaluation please",
            "scope": "regional",
            "description": "We need an evaluation of the impact of our programme.",
            "themes": ["research-evaluation"],
        },
    )
    assert response.status_code == 302
    [proposal] = proposals()
    assert {p.organisation_id for p in proposal.parties} == {network.id, university.id}
    run = db.session.scalar(sa.select(MatcherRun))
    assert run.kind == RunKind.INCREMENTAL


def test_editing_a_listing_rescores_or_withdraws_its_pending_proposals(
    app: Flask, pair: tuple
) -> None:
    from matchmaker.listings.services import update_listing

    _run()
    need, _offer = pair
    update_listing(
        listing=need,
        actor=None,
        title=need.title,
        description=need.description,
        themes=["funding"],
        scope=need.scope,
    )
    db.session.commit()
    [proposal] = proposals()
    assert proposal.status == ProposalStatus.WITHDRAWN
    assert proposal.withdrawn_reason == "It no longer meets the matching rules."


def test_demo_data_gives_the_liverpool_triad_and_an_athens_partnership(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    names = [(p.template, {party.organisation.name for party in p.parties}) for p in proposals()]
    triads = [orgs for template, orgs in names if template == "knowledge_exchange_triad"]
    assert any(
        {"Social Enterprise Network", "Liverpool City Mayor's Office"} <= orgs
        and any(o.startswith("University of Liverpool") for o in orgs)
        for orgs in triads
    )
    athens = [orgs for template, orgs in names if template == "local_inclusion_partnership"]
    assert any(
        {"City of Athens", "Technology University of Athens"} <= orgs and len(orgs) >= 3
        for orgs in athens
    )
    for proposal in proposals():
        assert proposal.explanation
        assert sum(item["points"] for item in proposal.explanation) == proposal.score
        lines = render_explanation(proposal.template, proposal.explanation)
        assert all(line.reason for line in lines)


def test_match_run_and_explain_cli(app: Flask, pair: tuple) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["match", "run"])
    assert result.exit_code == 0, result.output
    assert "1 proposals created" in result.output
    [proposal] = proposals()
    explained = runner.invoke(args=["match", "explain", str(proposal.id)])
    assert explained.exit_code == 0
    assert "Shared themes" in explained.output and f"{proposal.score:4d}  total" in explained.output
    assert runner.invoke(args=["match", "explain", "999"]).exit_code != 0


def test_proposals_export(app: Flask, pair: tuple, tmp_path: Path) -> None:
    _run()
    out = tmp_path / "proposals.json"
    result = app.test_cli_runner().invoke(
        args=["proposals", "export", "--status", "pending_review", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    [exported] = json.loads(out.read_text())["proposals"]
    assert set(exported) == {"id", "template", "score", "status", "parties", "explanation"}
    assert set(exported["parties"][0]) == {
        "organisation",
        "organisation_kind",
        "listing_title",
        "listing_kind",
        "role",
    }
    assert sum(item["points"] for item in exported["explanation"]) == exported["score"]
    empty = app.test_cli_runner().invoke(args=["proposals", "export", "--status", "agreed"])
    assert json.loads(empty.output) == {"proposals": []}


def test_an_incremental_run_respects_the_cap_of_the_listings_around(app: Flask) -> None:
    from matchmaker.matching.engine import match_listing

    offer = make_listing(
        kind=ListingKind.OFFER,
        themes=("training-advice",),
        organisation=make_organisation(kind=OrganisationKind.CIVIL_SOCIETY),
    )
    for _ in range(5):
        make_listing(themes=("training-advice",))
    _run()
    assert len([p for p in proposals() if offer.id in p.listing_ids]) == 5  # the default cap
    newcomer = make_listing(themes=("training-advice",))
    match_listing(newcomer)
    db.session.commit()
    assert not [p for p in proposals() if {offer.id, newcomer.id} <= set(p.listing_ids)]

    # Once one of the offer's proposals is rejected, it has room again.
    [first, *_] = [p for p in proposals() if offer.id in p.listing_ids]
    first.status = ProposalStatus.REJECTED
    db.session.commit()
    match_listing(newcomer)
    db.session.commit()
    assert [p for p in proposals() if {offer.id, newcomer.id} <= set(p.listing_ids)]


def test_an_incremental_run_never_proposes_a_combination_with_a_declined_pair(app: Flask) -> None:
    from matchmaker.demo.cli import load_demo
    from matchmaker.matching.engine import match_listing

    load_demo()
    db.session.commit()
    _run()
    triad = next(
        p
        for p in proposals()
        if p.template == "knowledge_exchange_triad"
        and "Social Enterprise Network" in {x.organisation.name for x in p.parties}
    )
    sen, university, mayor = triad.parties
    declined = next(
        p
        for p in proposals()
        if p.template == "pair"
        and {x.listing_id for x in p.parties} == {sen.listing_id, university.listing_id}
    )
    declined.status = ProposalStatus.DECLINED
    triad.status = ProposalStatus.WITHDRAWN
    db.session.commit()
    # Matched again from the third party's listing: the declined pair does not include it.
    match_listing(mayor.listing)
    db.session.commit()
    db.session.refresh(triad)
    assert triad.status == ProposalStatus.WITHDRAWN
    assert not [
        p
        for p in proposals(ProposalStatus.PENDING_REVIEW)
        if {sen.listing_id, university.listing_id} <= set(p.listing_ids)
    ]


def test_room_freed_under_the_cap_is_used_at_once(app: Flask) -> None:
    from matchmaker.matching.engine import match_listing

    offer = make_listing(
        kind=ListingKind.OFFER,
        themes=("training-advice",),
        organisation=make_organisation(kind=OrganisationKind.CIVIL_SOCIETY),
    )
    needs = [make_listing(themes=("training-advice",)) for _ in range(5)]
    _run()
    newcomer = make_listing(themes=("training-advice",))
    match_listing(newcomer)
    db.session.commit()
    assert not [p for p in proposals() if {offer.id, newcomer.id} <= set(p.listing_ids)]

    # One of the five needs closes: its proposal with the offer is withdrawn, and the offer's
    # freed place goes to the newcomer in the same incremental run, not at the next full run.
    needs[0].status = ListingStatus.CLOSED
    db.session.commit()
    match_listing(needs[0])
    db.session.commit()
    live = [p for p in proposals(ProposalStatus.PENDING_REVIEW) if offer.id in p.listing_ids]
    assert newcomer.id in {lid for p in live for lid in p.listing_ids}
    assert len(live) == 5


def test_a_new_challenge_that_fits_a_named_shape_is_proposed_in_that_shape(app: Flask) -> None:
    # The City of Athens posts a second challenge on the Athens model's themes: the partnership
    # comes as the Athens model, not as a general consortium of the same parties taking their
    # places under the cap.
    from matchmaker.matching.engine import match_listing
    from matchmaker.organisations.models import Organisation

    app.test_cli_runner().invoke(args=["demo", "load"])
    athens = db.session.scalar(sa.select(Organisation).where(Organisation.name == "City of Athens"))
    challenge = make_listing(
        organisation=athens,
        kind=ListingKind.CHALLENGE,
        scope=Scope.LOCAL,
        themes=("social-inclusion", "work-integration"),
        sought_kinds=(OrganisationKind.ACADEMIC_INSTITUTION, OrganisationKind.SSE_ORGANISATION),
        title="Work integration for young people at risk of poverty",
        description="The City of Athens seeks a university and social enterprises for work "
        "integration and social inclusion of young people at risk of poverty.",
    )
    db.session.commit()
    match_listing(challenge)
    db.session.commit()
    templates = {p.template for p in proposals() if challenge.id in p.listing_ids}
    assert "local_inclusion_partnership" in templates
    assert "consortium" not in templates


def test_an_incremental_plan_reads_around_its_candidates_as_around_its_neighbourhood(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An incremental run reads the live counts, the refused combinations and the introduced
    # proposals of its candidates' listings only; the plain way read those of its whole
    # neighbourhood. On dense synthetic data, with proposals of every kind of status around,
    # each live listing's plan is the same both ways.
    from bench.synthetic import generate
    from matchmaker.matching import engine
    from matchmaker.matching.snapshot import neighbourhood_snapshot

    generate(300, dense=True)
    db.session.commit()
    _run()
    statuses = [
        ProposalStatus.REJECTED,
        ProposalStatus.DECLINED,
        ProposalStatus.APPROVED,
        ProposalStatus.AGREED,
        ProposalStatus.WITHDRAWN,
    ]
    for number, proposal in enumerate(proposals()[::3]):
        proposal.status = statuses[number % len(statuses)]
    db.session.commit()
    # A higher cap than the full run's: room for more, and still a cap that some listings reach.
    settings = MatchSettings.of(max_proposals_per_listing=7)
    around = engine._around

    def outline(result: engine.Plan) -> list[Any]:
        return [
            [(c.fingerprint, c.score) for c in result.create],
            [(pid, c.fingerprint, c.score) for pid, c in result.revive + result.rescore],
            sorted(result.withdraw),
            result.candidates_scored,
        ]

    compared = 0
    for listing in db.session.scalars(sa.select(Listing).order_by(Listing.id)).all()[::6]:
        snapshot = neighbourhood_snapshot(listing)
        if listing.id not in snapshot.listings:
            continue
        monkeypatch.setattr(engine, "_around", around)
        found = engine.plan(snapshot, settings, focus=listing.id)
        neighbourhood = [*snapshot.listings, listing.id]
        monkeypatch.setattr(engine, "_around", lambda _ids, every=neighbourhood: around(every))
        plain = engine.plan(neighbourhood_snapshot(listing), settings, focus=listing.id)
        assert outline(found) == outline(plain)
        compared += bool(found.create or found.revive)
    assert compared >= 10


def test_the_order_the_templates_are_asked_in_changes_nothing_proposed(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run asks the consortium right after the pair (engine._run_order, to let go of the
    pair's shortlists sooner): it proposes what asking the templates as listed proposes."""
    from bench.synthetic import generate
    from matchmaker.matching import engine
    from matchmaker.matching.settings import load_settings
    from matchmaker.matching.snapshot import full_snapshot
    from matchmaker.matching.templates import TEMPLATES
    from matchmaker.organisations.models import Organisation
    from matchmaker.proposals.models import ProposalParty

    for model in (ProposalParty, Proposal, Listing, Organisation):
        db.session.execute(sa.delete(model))
    generate(500, seed=3, dense=True)

    def proposed() -> list[tuple[str, tuple[int, ...], int, list[Any]]]:
        snapshot, settings = full_snapshot(), load_settings()
        return [
            (c.template, c.listing_ids, c.score, c.explanation(snapshot, settings))
            for c in engine.plan(snapshot, settings).create
        ]

    reordered = proposed()
    assert [t.name for t in engine._run_order()][:2] == ["pair", "consortium"]
    assert {"pair", "consortium", "knowledge_exchange_triad"} <= {t for t, *_ in reordered}
    monkeypatch.setattr(engine, "_run_order", lambda: list(TEMPLATES.values()))
    assert proposed() == reordered
