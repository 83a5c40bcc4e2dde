"""The coordinators' dashboard: every figure as a table (headers + rows), so the page can draw
a chart from it and export it as CSV from the same data. Each table counts what a coordinator's
:class:`Coverage` holds: their territories' organisations, and the proposals with a party there."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from matchmaker.core.caching import shared_fragment
from matchmaker.core.i18n import country_name, format_list
from matchmaker.core.jobs import failed_for_an_admin
from matchmaker.core.models import Job, MessageStatus, OutboxMessage
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, Theme, listing_themes, theme_label
from matchmaker.listings.search import open_and_current, open_counts_by_theme
from matchmaker.matching.explanations import label as rule_label
from matchmaker.matching.snapshot import region_key
from matchmaker.matching.templates import TEMPLATES
from matchmaker.organisations.models import Organisation, OrganisationStatus
from matchmaker.organisations.services import count_awaiting_verification
from matchmaker.proposals.models import (
    LIVE_STATUSES,
    Outcome,
    Proposal,
    ProposalParty,
    ProposalStatus,
)
from matchmaker.territories.services import Coverage

# The most rows of a table the page shows (its CSV file has them all): at 50,000 listings the
# unmet needs alone made a page of 650 KB.
PAGE_ROWS = 50


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list[object]]
    chart_column: int | None = 1  # which column the bar chart draws (None: no chart)


def _template_label(name: str) -> str:
    template = TEMPLATES.get(name)
    return str(template.label) if template else name


def _count_headers(first: str) -> list[str]:
    return [first, str(_l("Needs")), str(_l("Offers")), str(_l("Challenges")), str(_l("Total"))]


def by_theme(coverage: Coverage) -> Table:
    rows = [
        [r["name"], r["need"], r["offer"], r["challenge"], r["need"] + r["offer"] + r["challenge"]]
        for r in open_counts_by_theme(coverage.organisations())
    ]
    return Table(
        "by_theme",
        str(_l("Open listings by theme")),
        _count_headers(str(_l("Theme"))),
        rows,
        chart_column=4,
    )


def by_region(coverage: Coverage) -> Table:
    """Open listings by region, a region being what the matcher takes for one
    (matching.snapshot.region_key: the gazetteer's subdivision where it found the city, so
    "Attica" and "Αττική" are one; else the region as written, whatever its case), named as
    most of its organisations write it (organisations, not their listings: one with many
    listings does not outvote the others)."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    written: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for country, region, subdivision, organisations, *by_kind in db.session.execute(
        sa.select(
            Organisation.country,
            Organisation.region,
            Organisation.subdivision,
            sa.func.count(sa.distinct(Organisation.id)),
            *(sa.func.count().filter(Listing.kind == kind) for kind in ListingKind),
        )
        .join(Listing, Listing.organisation_id == Organisation.id)
        .where(
            Organisation.status == OrganisationStatus.VERIFIED,
            open_and_current(),
            coverage.organisations(),
        )
        .group_by(Organisation.country, Organisation.region, Organisation.subdivision)
    ):
        key = region_key(country, region, subdivision)
        for kind, count in zip(ListingKind, by_kind, strict=True):
            counts[key][kind.value] += count
        written[key][" ".join(region.split())] += organisations
    places = sorted(
        (
            # The spelling most of its organisations use; among equals, the first in
            # alphabetical order.
            (f"{min(written[key].items(), key=lambda w: (-w[1], w[0]))[0]} ({key[0]})", c)
            for key, c in counts.items()
        ),
        key=lambda place: (-place[1].total(), place[0]),
    )
    rows: list[list[object]] = [
        [name, c["need"], c["offer"], c["challenge"], c.total()] for name, c in places
    ]
    return Table(
        "by_region",
        str(_l("Open listings by region")),
        _count_headers(str(_l("Region"))),
        rows,
        chart_column=4,
    )


def by_status(coverage: Coverage) -> Table:
    counts = dict(
        db.session.execute(
            sa.select(Proposal.status, sa.func.count())
            .where(coverage.proposals())
            .group_by(Proposal.status)
        ).all()
    )
    rows = [[status.label, counts.get(status, 0)] for status in ProposalStatus]
    return Table(
        "by_status", str(_l("Proposals by status")), [str(_l("Status")), str(_l("Proposals"))], rows
    )


def _decided(coverage: Coverage) -> list[Proposal]:
    return list(
        db.session.scalars(
            sa.select(Proposal).where(
                Proposal.status.in_([ProposalStatus.AGREED, ProposalStatus.DECLINED]),
                coverage.proposals(),
            )
        )
    )


def _rate(agreed: int, declined: int) -> str:
    return f"{100 * agreed / (agreed + declined):.0f}%" if agreed + declined else "—"


def acceptance_by_template(coverage: Coverage) -> Table:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for proposal in _decided(coverage):
        counts[proposal.template][proposal.status.value] += 1
    rows = [
        [_template_label(name), c["agreed"], c["declined"], _rate(c["agreed"], c["declined"])]
        for name, c in sorted(counts.items())
    ]
    return Table(
        "acceptance_by_template",
        str(_l("Acceptance by template")),
        [str(_l("Template")), str(_l("Agreed")), str(_l("Declined")), str(_l("Acceptance rate"))],
        rows,
    )


def acceptance_by_rule(coverage: Coverage) -> Table:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for proposal in _decided(coverage):
        for item in proposal.explanation:
            counts[item["rule"]][proposal.status.value] += 1
    rows = [
        [rule_label(rule), c["agreed"], c["declined"], _rate(c["agreed"], c["declined"])]
        for rule, c in sorted(counts.items())
    ]
    return Table(
        "acceptance_by_rule",
        str(_l("Acceptance of proposals where each rule fired")),
        [str(_l("Rule")), str(_l("Agreed")), str(_l("Declined")), str(_l("Acceptance rate"))],
        rows,
    )


def outcomes_by_template(coverage: Coverage) -> Table:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for template, kind in db.session.execute(
        sa.select(Proposal.template, Outcome.kind)
        .join(Outcome, Outcome.proposal_id == Proposal.id)
        .where(coverage.proposals())
    ):
        counts[template][kind.label] += 1
    rows = [
        [_template_label(t), sum(c.values()), ", ".join(f"{k}: {n}" for k, n in sorted(c.items()))]
        for t, c in sorted(counts.items())
    ]
    return Table(
        "outcomes_by_template",
        str(_l("Outcomes by template")),
        [str(_l("Template")), str(_l("Outcomes")), str(_l("Which"))],
        rows,
    )


def outcomes_by_theme(coverage: Coverage) -> Table:
    counts: Counter[str] = Counter()
    for _outcome, slug, name in db.session.execute(
        sa.select(Outcome.id, Theme.slug, Theme.name)
        .distinct()
        .select_from(Outcome)
        .join(ProposalParty, ProposalParty.proposal_id == Outcome.proposal_id)
        .join(listing_themes, listing_themes.c.listing_id == ProposalParty.listing_id)
        .join(Theme, Theme.id == listing_themes.c.theme_id)
        .join(Proposal, Proposal.id == Outcome.proposal_id)
        .where(coverage.proposals())
    ):
        counts[theme_label(slug, name)] += 1
    rows = [[name, count] for name, count in counts.most_common()]
    return Table(
        "outcomes_by_theme",
        str(_l("Outcomes by theme (of the parties' listings)")),
        [str(_l("Theme")), str(_l("Outcomes"))],
        rows,
    )


def decision_times(coverage: Coverage) -> Table:
    days: dict[str, list[float]] = defaultdict(list)
    for template, created, decided in db.session.execute(
        sa.select(Proposal.template, Proposal.created_at, Proposal.decided_at).where(
            Proposal.decided_at.is_not(None), coverage.proposals()
        )
    ):
        assert decided is not None  # the query keeps decided proposals only
        days[template].append((decided - created).total_seconds() / 86400)
    every = [d for values in days.values() for d in values]
    rows = [
        [_template_label(t), len(v), round(statistics.median(v), 1)]
        for t, v in sorted(days.items())
    ]
    if every:  # numbers, written as the reader writes them (2,5 in Greek)
        rows.append([str(_l("All templates")), len(every), round(statistics.median(every), 1)])
    return Table(
        "decision_times",
        str(_l("Median days from proposal to decision")),
        [str(_l("Template")), str(_l("Decided")), str(_l("Median days"))],
        rows,
        chart_column=None,
    )


def unmet_needs(coverage: Coverage) -> Table:
    live = (
        sa.select(ProposalParty.listing_id).join(Proposal).where(Proposal.status.in_(LIVE_STATUSES))
    )
    rows = [
        [
            listing.title,
            listing.organisation.name,
            country_name(listing.organisation.country),
            # Theme names hold commas of their own ("Research, evaluation and …"), and a ";"
            # is a question mark in Greek: listed as the reader's language lists.
            format_list(theme_label(t.slug, t.name) for t in listing.themes),
            listing.created_at.date().isoformat(),
            listing.id,
        ]
        for listing in db.session.scalars(
            sa.select(Listing)
            .join(Organisation, Organisation.id == Listing.organisation_id)
            .where(
                Listing.kind == ListingKind.NEED,
                Organisation.status == OrganisationStatus.VERIFIED,
                open_and_current(),
                Listing.id.not_in(live),
                coverage.organisations(),
            )
            .order_by(Listing.created_at, Listing.id)
        )
    ]
    return Table(
        "unmet_needs",
        str(_l("Unmet needs: open needs with no live proposal")),
        [
            str(_l("Need")),
            str(_l("Organisation")),
            str(_l("Country")),
            str(_l("Themes")),
            str(_l("Posted")),
            "id",
        ],
        rows,
        chart_column=None,
    )


TABLES: dict[str, Callable[[Coverage], Table]] = {
    "by_theme": by_theme,
    "by_region": by_region,
    "by_status": by_status,
    "acceptance_by_template": acceptance_by_template,
    "acceptance_by_rule": acceptance_by_rule,
    "outcomes_by_template": outcomes_by_template,
    "outcomes_by_theme": outcomes_by_theme,
    "decision_times": decision_times,
    "unmet_needs": unmet_needs,
}


# What waits for coordinators (the counts in their menu) ----------------------------------------


@dataclass(frozen=True)
class Waiting:
    verification: int  # organisations, new or with identity changes
    review: int  # proposals
    mail: int  # messages that failed for good (admins retry them)
    jobs: int  # jobs that failed for good (admins try them again)


def waiting_for_coordinators(coverage: Coverage, *, for_admin: bool) -> Waiting:
    """The menu's counts: organisations and proposals waiting in ``coverage`` (the same for
    every coordinator of the same territories: a shared fragment, counted again when
    organisations or proposals change), and failed mail and jobs when ``for_admin`` (only
    their menu shows them), both in one query."""
    verification, review = shared_fragment(
        "coordinators-menu",
        lambda: _waiting_in(coverage),
        coverage.key,
        per_language=False,
    )
    if not for_admin:
        return Waiting(verification, review, 0, 0)
    mail = (
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.FAILED)
        .scalar_subquery()
    )
    jobs = (
        sa.select(sa.func.count()).select_from(Job).where(failed_for_an_admin()).scalar_subquery()
    )
    failed_mail, failed_jobs = db.session.execute(sa.select(mail, jobs)).one()
    return Waiting(verification, review, failed_mail or 0, failed_jobs or 0)


def _waiting_in(coverage: Coverage) -> tuple[int, int]:
    review = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Proposal)
        .where(Proposal.status == ProposalStatus.PENDING_REVIEW, coverage.proposals())
    )
    return count_awaiting_verification(coverage), review or 0
