from __future__ import annotations

import json
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from matchmaker.matching.counts import stale_counts
from matchmaker.matching.engine import MatcherBusy, run_full
from matchmaker.matching.explanations import render as render_explanation
from matchmaker.matching.models import RunKind
from matchmaker.matching.tasks import match_waiting, record_failed_run
from matchmaker.matching.templates import TEMPLATES
from matchmaker.matching.text import reindex_listing_words
from matchmaker.matching.theme_counts import rebuild_theme_counts
from matchmaker.organisations.models import Organisation
from matchmaker.privacy.erasure import ORGANISATION_CLOSED
from matchmaker.proposals.models import Proposal, ProposalStatus
from matchmaker.proposals.services import (
    closed_with_introductions,
    end_introductions,
    export_proposals,
)

match_cli = AppGroup("match", help="Run the matcher and explain its proposals.")
proposals_cli = AppGroup("proposals", help="Proposals made by the matcher.")


@match_cli.command("run")
@click.option("--wait", is_flag=True, help="Wait for a run under way instead of stopping.")
def run_command(wait: bool) -> None:
    """Match every open listing (a second run creates nothing new)."""
    with click.progressbar(length=len(TEMPLATES), label="Matching", show_pos=True) as bar:
        last = [0]

        def progress(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        started_at = utcnow()
        try:
            run = run_full(wait=wait, progress=progress)
        except MatcherBusy as error:
            db.session.rollback()
            raise click.ClickException(
                "Another matcher run is under way; try again later, or use --wait."
            ) from error
        except Exception as error:
            failed = record_failed_run(RunKind.FULL, started_at, error)
            raise click.ClickException(f"The run failed: {failed.error}") from error
    db.session.commit()
    match_waiting()  # listings posted while the run held the lock
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
    click.echo(
        f"Run {run.id}: {run.listings_considered} listings considered, "
        f"{run.candidates_scored} candidates scored, {run.proposals_created} proposals created, "
        f"{run.proposals_withdrawn} withdrawn, in {seconds:.2f} s."
    )


@match_cli.command("reindex")
@click.option(
    "--check",
    is_flag=True,
    help="Only count the themes and words again and report each kept count that differs, "
    "changing nothing (exit status 1 if any does).",
)
def reindex_command(check: bool) -> None:
    """Recompute the words the matcher compares and the search index holds, and how many
    listings carry each theme, for listings written outside the app or after the word rules
    changed."""
    if check:
        _check_counts()
        return
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Listing)) or 0
    with click.progressbar(length=total, label="Listings", show_pos=True) as bar:
        changed = reindex_listing_words(progress=bar.update)
    rebuild_theme_counts()
    db.session.commit()
    click.echo(f"{changed} of {total} listings had their words recomputed.")


def _check_counts() -> None:
    stale = stale_counts()
    db.session.rollback()
    if stale:
        # The kept counts and the listings are read by separate statements: a listing saved in
        # between makes its keys differ for that moment. A key is reported only when a second
        # look finds it differing too.
        again = {(count.table, count.key) for count in stale_counts()}
        db.session.rollback()
        stale = [count for count in stale if (count.table, count.key) in again]
    for count in stale:
        click.echo(f"{count.table} {count.key!r}: {count.stored} stored, {count.counted} counted")
    if stale:
        raise click.ClickException(
            f"{len(stale)} kept counts differ from a count of the listings: "
            "run `flask --app wsgi match reindex`."
        )
    click.echo("The kept theme and word counts equal a count of the listings.")


@match_cli.command("explain")
@click.argument("proposal_id", type=int)
def explain_command(proposal_id: int) -> None:
    """Print why the matcher proposed PROPOSAL_ID, rule by rule."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise click.ClickException(f"There is no proposal {proposal_id}.")
    template = TEMPLATES.get(proposal.template)
    click.echo(
        f"Proposal {proposal.id}: {template.label if template else proposal.template}, "
        f"score {proposal.score}/100, {proposal.status.value}"
    )
    for party in proposal.parties:
        click.echo(
            f"  {party.role}: {party.organisation.name} ({party.organisation.kind.value}) — "
            f"{party.listing.kind.value} \u201c{party.listing.title}\u201d"
        )
    lines = render_explanation(proposal.template, proposal.explanation)
    for line in lines:
        click.echo(f"  {line.points:+4d}  {line.label}: {line.reason}")
    click.echo(f"  ----\n  {sum(line.points for line in lines):4d}  total")


@proposals_cli.command("export")
@click.option(
    "--status", type=click.Choice([s.value for s in ProposalStatus]), help="Only this status."
)
@click.option("--out", type=click.Path(path_type=Path), help="Write to a file.")
def export_command(status: str | None, out: Path | None) -> None:
    """Export proposals with their parties and explanations as JSON."""
    document = export_proposals(ProposalStatus(status) if status else None)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Proposal))
        click.echo(f"Wrote {len(document['proposals'])} of {count} proposals to {out}", err=True)


@proposals_cli.command("end-closed-introductions")
def end_closed_introductions_command() -> None:
    """End the introductions of organisations closed before closing ended them (once, after
    upgrading): withdrawn, their other parties told, what they covered back in the queue, as
    when an organisation closes now. Each organisation is committed on its own; running it
    again finds nothing left."""
    closed = closed_with_introductions()
    db.session.rollback()
    ended = 0
    with (
        current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]),
        click.progressbar(closed, label="Closed organisations", show_pos=True) as bar,
    ):
        for organisation_id in bar:
            organisation = db.session.get(Organisation, organisation_id)
            if organisation is None:  # deleted since
                continue
            ended += len(
                end_introductions(organisation=organisation, actor=None, reason=ORGANISATION_CLOSED)
            )
            db.session.commit()
    click.echo(f"{ended} introductions of {len(closed)} closed organisations ended.")
