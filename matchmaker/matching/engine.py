"""The matcher: plans what to propose and withdraw, then writes it.

Hard rules exclude before anything is proposed: the same organisation twice, a listing that is
not open or has expired, an organisation not verified (the snapshot holds only live listings),
a partner outside either listing's scope (the templates), a fingerprint already proposed, a
combination containing a pair of listings a coordinator rejected or a party declined, a
combination an introduced proposal already covers (proposals/coverage.py), and a listing that
already has its most proposals. Pending proposals are kept in step: withdrawn when
a listing closes or expires or when they no longer meet the rules, re-scored when their score
changes, revived when a withdrawn combination qualifies again.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

import sqlalchemy as sa

from matchmaker.core.caching import note_shared_write
from matchmaker.core.words import organisation_words, stems
from matchmaker.db import LOCK_NOT_AVAILABLE, utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.listings.search import open_and_current
from matchmaker.matching.bulk import prepare, reserve_ids
from matchmaker.matching.models import MatcherRun, RunKind, RunStatus
from matchmaker.matching.related import distinctive, kin_moved
from matchmaker.matching.settings import MatchSettings, load_settings
from matchmaker.matching.snapshot import (
    ListingView,
    Place,
    Snapshot,
    full_snapshot,
    live_themes,
    neighbourhood_snapshot,
    region_id,
    view_of,
    words_snapshot,
)
from matchmaker.matching.templates import TEMPLATES
from matchmaker.matching.templates.assembly import MOST_PARTIES
from matchmaker.matching.templates.base import Candidate, Held, Party, Template
from matchmaker.matching.templates.consortium import PARTNER_MARGIN
from matchmaker.matching.templates.pair import (
    FARTHER_TAKERS,
    PairTemplate,
    farther_takers,
    likeliest,
    shortlist,
    takers,
)
from matchmaker.organisations.models import Organisation
from matchmaker.proposals.coverage import CoverIndex, Footprint
from matchmaker.proposals.models import (
    COVERING_STATUSES,
    LIVE_STATUSES,
    SUPPRESSING_STATUSES,
    Proposal,
    ProposalParty,
    ProposalStatus,
)

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x55E_3A7C  # PostgreSQL advisory lock shared by every matcher run
NOT_LIVE = "A listing closed, paused or expired, or its organisation is no longer verified."
BELOW_RULES = "It no longer meets the matching rules."


class MatcherBusy(RuntimeError):
    """Another full run holds the lock."""


class ProposalsHeld(MatcherBusy):
    """A person's request holds a proposal that a later plan of the same incremental run
    writes (see :func:`_lock_planned`)."""


@dataclass
class ExistingProposal:
    id: int
    template: str
    status: ProposalStatus
    score: int
    parties: list[tuple[int, str]]  # (listing id, role)


@dataclass
class Plan:
    create: list[Candidate] = field(default_factory=list)
    revive: list[tuple[int, Candidate]] = field(default_factory=list)
    rescore: list[tuple[int, Candidate]] = field(default_factory=list)
    withdraw: list[tuple[int, str]] = field(default_factory=list)
    listings_considered: int = 0
    candidates_scored: int = 0


# Statements of every run, made once (their values bound when they run): for the few rows of
# an incremental run, building and keying a statement anew costs about as much as running it.
_LISTING_IDS: sa.BindParameter[list[int]] = sa.bindparam("listing_ids", expanding=True)
_INVOLVED = sa.select(ProposalParty.proposal_id).where(ProposalParty.listing_id.in_(_LISTING_IDS))
_PROPOSALS = sa.select(
    Proposal.id, Proposal.template, Proposal.status, Proposal.score, Proposal.fingerprint
)
_PARTIES = sa.select(
    ProposalParty.proposal_id, ProposalParty.listing_id, ProposalParty.role
).order_by(ProposalParty.proposal_id, ProposalParty.position)
_PROPOSALS_INVOLVING = _PROPOSALS.where(Proposal.id.in_(_INVOLVED))
_PARTIES_INVOLVING = _PARTIES.where(ProposalParty.proposal_id.in_(_INVOLVED))
# _around(): each party of the listings with its proposal's status, as the stored text (no enum
# per row); then the listings of some of those proposals, in party order.
_STATUSES_AROUND = (
    sa.select(
        ProposalParty.listing_id,
        ProposalParty.proposal_id,
        sa.type_coerce(Proposal.status, sa.String),
    )
    .join(Proposal)
    .where(ProposalParty.listing_id.in_(_LISTING_IDS))
)
_LISTINGS_OF_PROPOSALS = (
    sa.select(ProposalParty.proposal_id, ProposalParty.listing_id)
    .where(ProposalParty.proposal_id.in_(sa.bindparam("proposal_ids", expanding=True)))
    .order_by(ProposalParty.proposal_id, ProposalParty.position)
)


def _existing(listing_ids: Iterable[int] | None) -> dict[str, ExistingProposal]:
    """Proposals (all of them, or those involving ``listing_ids``), by fingerprint."""
    if listing_ids is None:
        statement, party_statement, values = _PROPOSALS, _PARTIES, {}
    else:
        statement, party_statement = _PROPOSALS_INVOLVING, _PARTIES_INVOLVING
        values = {"listing_ids": list(listing_ids)}
    parties: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for proposal_id, listing_id, role in db.session.execute(party_statement, values):
        parties[proposal_id].append((listing_id, role))
    return {
        fp: ExistingProposal(pid, template, status, score, parties[pid])
        for pid, template, status, score, fp in db.session.execute(statement, values)
    }


def _around(listing_ids: list[int]) -> tuple[Counter[int], list[list[int]], dict[int, list[int]]]:
    """For an incremental run: how many live proposals each of ``listing_ids`` is in (for the
    cap), the listings of each rejected or declined proposal that involves one of them, and
    those of each introduced proposal that does (in party order: what covers a combination).

    Driven by the listings (through the parties' index) and sorted by status here, so that no
    database is tempted to walk every pending proposal by status instead."""
    if not listing_ids:
        return Counter(), [], {}
    rows = db.session.execute(_STATUSES_AROUND, {"listing_ids": listing_ids}).all()
    live_values = {s.value for s in LIVE_STATUSES}
    suppressing_values = {s.value for s in SUPPRESSING_STATUSES}
    covering_values = {s.value for s in COVERING_STATUSES}
    live = Counter(lid for lid, _, value in rows if value in live_values)
    suppressing = {pid for _, pid, value in rows if value in suppressing_values}
    covering = {pid for _, pid, value in rows if value in covering_values}
    groups: dict[int, list[int]] = defaultdict(list)
    if suppressing or covering:
        for pid, lid in db.session.execute(
            _LISTINGS_OF_PROPOSALS, {"proposal_ids": sorted(suppressing | covering)}
        ):
            groups[pid].append(lid)
    return (
        live,
        [groups[pid] for pid in sorted(suppressing)],
        {pid: groups[pid] for pid in sorted(covering)},
    )


def plan(
    snapshot: Snapshot,
    settings: MatchSettings,
    *,
    focus: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """What a run would change, without changing anything (also used for previews)."""
    result = Plan(listings_considered=len(snapshot.listings) if focus is None else 1)
    if focus is None:
        existing = _existing(None)
        suppressing = [
            [lid for lid, _ in p.parties]
            for p in existing.values()
            if p.status in SUPPRESSING_STATUSES
        ]
        live_count: Counter[int] = Counter()  # counted below
        introduced = {
            p.id: [lid for lid, _ in p.parties]
            for p in existing.values()
            if p.status in COVERING_STATUSES
        }
    else:
        # Every candidate includes the focus listing: only its own proposals in detail; what is
        # around the candidates' listings is read once the candidates are known (below).
        existing = _existing([focus])
    unchanged_scores: list[tuple[int, Candidate]] = []
    withdrawn: list[list[int]] = []  # the listings of each proposal withdrawn

    def withdraw(proposal: ExistingProposal, reason: str, listing_ids: list[int]) -> None:
        result.withdraw.append((proposal.id, reason))
        withdrawn.append(listing_ids)

    # Keep pending proposals in step with the listings and the rules.
    for proposal in existing.values():
        listing_ids = [lid for lid, _ in proposal.parties]
        if proposal.status == ProposalStatus.PENDING_REVIEW and (
            focus is None or focus in listing_ids
        ):
            if any(lid not in snapshot.listings for lid in listing_ids):
                withdraw(proposal, NOT_LIVE, listing_ids)
                continue
            template = TEMPLATES.get(proposal.template)
            # None: a member asked for it (proposals/interest.py); the coordinators judge it,
            # whatever it scores.
            if template is not None:
                rebuilt = template.build(
                    snapshot,
                    settings,
                    [Party(snapshot.listings[lid], role) for lid, role in proposal.parties],
                )
                if rebuilt is None or rebuilt.score < settings.min_score:
                    withdraw(proposal, BELOW_RULES, listing_ids)
                    continue
                if rebuilt.score != proposal.score:
                    result.rescore.append((proposal.id, rebuilt))
                else:
                    unchanged_scores.append((proposal.id, rebuilt))
        if focus is None and proposal.status in LIVE_STATUSES:
            live_count.update(listing_ids)

    # Same score, but a reason may read differently (a renamed organisation, a new theme):
    # compare the stored explanations of just these proposals, in one query.
    if unchanged_scores:
        stored: dict[int, list[dict[str, Any]]] = dict(
            db.session.execute(
                sa.select(Proposal.id, Proposal.explanation).where(
                    Proposal.id.in_([pid for pid, _ in unchanged_scores])
                )
            ).all()
        )
        for pid, rebuilt in unchanged_scores:
            if rebuilt.explanation(snapshot, settings) != stored[pid]:
                result.rescore.append((pid, rebuilt))

    # Score what the templates suggest, then take the best first while each listing has room.
    # Each qualifying candidate is held as little as its template needs (Template.hold) under
    # one integer for its template and listings: a large run holds hundreds of thousands.
    keys = CandidateKeys.of(snapshot, existing.values())
    by_key = {
        keys.pack(p.template, sorted(lid for lid, _ in p.parties)): p
        for p in existing.values()
        if p.template in TEMPLATES
    }
    candidates: Iterable[Candidate] = _candidates(snapshot, settings, focus, progress, result)
    if focus is not None:
        # The live counts (for the cap), the combinations never to propose again and the
        # introduced proposals that cover some, read for the listings of the candidates only:
        # every combination held against a candidate shares a listing with it, and only the
        # candidates' listings are counted against the cap. A dozen listings, where the
        # neighbourhood holds hundreds (and the proposals of each).
        candidates = list(candidates)
        live_count, suppressing, introduced = _around(_listings_of(candidates))
        for listing_ids in withdrawn:  # they were counted among the live ones
            live_count.subtract(listing_ids)
    covers = CoverIndex(
        (pid, Footprint(_anchor(snapshot, listing_ids[0]), frozenset(listing_ids)))
        for pid, listing_ids in introduced.items()
    )
    suppressed = {
        frozenset(pair) for listing_ids in suppressing for pair in combinations(set(listing_ids), 2)
    }
    qualifying: dict[int, Held] = {}
    covering = bool(covers)  # asked once: the loop below meets hundreds of thousands
    for candidate in candidates:
        ids = candidate.listing_ids
        if suppressed and any(frozenset(pair) in suppressed for pair in combinations(ids, 2)):
            continue
        if covering and covers.covering(_footprint(candidate)) is not None:
            continue  # an introduced proposal already covers it
        key = keys.pack(candidate.template, ids)
        if by_key:
            known = by_key.get(key)
            if known is not None and known.status != ProposalStatus.WITHDRAWN:
                continue
        previous = qualifying.get(key)
        if previous is None or previous[0] < candidate.score:
            qualifying[key] = TEMPLATES[candidate.template].hold(snapshot, candidate)
    snapshot.scratch.clear()  # room for the ranking
    _prefer_named_shapes(snapshot, keys, qualifying)
    cap = settings.max_proposals_per_listing
    # A defaultdict finds a missing count in C; a Counter calls Python for each one.
    counts: defaultdict[int, int] = defaultdict(int, live_count)
    for key in _best_first(qualifying, keys):
        ids = keys.ids(key)
        for lid in ids:
            if counts[lid] >= cap:
                break
        else:
            for lid in ids:
                counts[lid] += 1
            candidate = TEMPLATES[keys.template(key)].restore(snapshot, ids, qualifying[key])
            known = by_key.get(key)
            if known is None:
                result.create.append(candidate)
            else:
                result.revive.append((known.id, candidate))
    return result


def _candidates(
    snapshot: Snapshot,
    settings: MatchSettings,
    focus: int | None,
    progress: Callable[[int], None] | None,
    result: Plan,
) -> Iterator[Candidate]:
    """What the templates propose that scores at least the minimum and brings together as
    many organisations as listings, template by template; ``result`` counts every candidate
    scored once they are all read."""
    min_score = settings.min_score
    scored = 0
    for done, template in enumerate(_run_order(), start=1):
        for candidate in template.propose(snapshot, settings, focus):
            scored += 1
            if candidate.score < min_score:
                continue
            ids = candidate.listing_ids
            # Pairs come from the index, which never pairs an organisation with itself.
            if len(ids) > 2 and len({p.listing.org_id for p in candidate.parties}) != len(ids):
                continue
            yield candidate
        if progress is not None:
            progress(done)
    result.candidates_scored = scored


def _run_order() -> list[Template]:
    """The templates in the order a run asks them: as they are listed, but the consortium right
    after the pair, whose shortlists it grows from and lets go of as it goes, so that they are
    not held while the other templates propose (about 20 MB of a full run at 50k dense
    listings). What is proposed does not depend on the order: candidates are ranked by score
    and key."""
    order = list(TEMPLATES.values())
    consortium = TEMPLATES["consortium"]
    order.remove(consortium)
    order.insert(order.index(TEMPLATES["pair"]) + 1, consortium)
    return order


def _listings_of(candidates: Iterable[Candidate]) -> list[int]:
    """The ids of every listing of ``candidates``, in order."""
    return sorted({lid for candidate in candidates for lid in candidate.listing_ids})


GENERAL_TEMPLATES = frozenset({"pair", "consortium"})


def _prefer_named_shapes(
    snapshot: Snapshot, keys: CandidateKeys, qualifying: dict[int, Held]
) -> None:
    """A consortium grown around a need or challenge that a named shape (the seed cases'
    partnerships) also fills is not proposed beside it: the named shape says the same
    partnership in the words of a model coordinators know, and the two would compete for the
    same partners' places under the cap. A named shape counts whether it is proposed now or
    already live: a full run meets the live ones among the existing proposals, an incremental
    run only those of its focus listing, so both ask the database."""
    anchors: dict[int, tuple[str, int]] = {}  # key → (template, anchor listing id)
    for key, held in qualifying.items():
        template = keys.template(key)
        if template not in GENERAL_TEMPLATES or template == "consortium":
            first = TEMPLATES[template].first_listing(snapshot, keys.ids(key), held)
            anchors[key] = (template, first)
    consortia = [key for key, (template, _) in anchors.items() if template == "consortium"]
    if not consortia:
        return
    shaped = {anchor for template, anchor in anchors.values() if template not in GENERAL_TEMPLATES}
    shaped |= _live_named_shape_anchors({anchors[key][1] for key in consortia} - shaped)
    for key in consortia:
        if anchors[key][1] in shaped:
            del qualifying[key]


def _live_named_shape_anchors(anchors: set[int]) -> set[int]:
    """Those of ``anchors`` (listing ids) that a live proposal of a named shape is built
    around (its first party)."""
    found: set[int] = set()
    ordered = sorted(anchors)
    for start in range(0, len(ordered), ANCHORS_PER_QUERY):
        found.update(
            db.session.scalars(
                sa.select(ProposalParty.listing_id)
                .join(Proposal)
                .where(
                    ProposalParty.position == 0,
                    ProposalParty.listing_id.in_(ordered[start : start + ANCHORS_PER_QUERY]),
                    Proposal.status.in_(LIVE_STATUSES),
                    Proposal.template.not_in(GENERAL_TEMPLATES),
                )
            )
        )
    return found


ANCHORS_PER_QUERY = 500  # bound parameters per query, well under SQLite's limit


def _anchor(snapshot: Snapshot, listing_id: int) -> int | None:
    """The listing a proposal is built around, if its first listing asks (see
    Proposal.anchor_listing_id). A listing not in the snapshot is in no candidate either."""
    view = snapshot.listings.get(listing_id)
    return listing_id if view is not None and view.asks else None


def _footprint(candidate: Candidate) -> Footprint:
    first = candidate.parties[0].listing
    return Footprint(first.id if first.asks else None, frozenset(candidate.listing_ids))


class CandidateKeys:
    """A candidate's template and listing ids (sorted) as one integer: the template's place in
    the alphabetical order of the templates' names, then each id in ``id_bits`` bits, padded
    with zeros to the most parties a proposal has, then how many ids there are. A third of the
    memory of the tuples for the hundreds of thousands of candidates a large run holds; and
    these integers sort like the tuples (the template's name, then the ids, shorter first)."""

    NAMES = tuple(sorted(TEMPLATES))
    COUNT_BITS = 3  # up to 7 ids: more than MOST_PARTIES
    COUNT_MASK = (1 << COUNT_BITS) - 1

    def __init__(self, id_bits: int) -> None:
        self.id_bits = id_bits
        self.mask = (1 << id_bits) - 1
        self.ranks = {name: rank for rank, name in enumerate(self.NAMES)}
        self.template_shift = self.COUNT_BITS + id_bits * MOST_PARTIES
        self.score_shift = self.template_shift + len(self.NAMES).bit_length()
        # For each count of ids, where each id lies in the key (the first highest).
        self.shifts = [
            [self.template_shift - id_bits * (place + 1) for place in range(count)]
            for count in range(MOST_PARTIES + 1)
        ]

    @classmethod
    def of(cls, snapshot: Snapshot, existing: Iterable[ExistingProposal]) -> CandidateKeys:
        """Room for the ids of the snapshot's listings and of the existing proposals'."""
        highest = max(snapshot.listings, default=0)
        for proposal in existing:
            highest = max(highest, max((lid for lid, _ in proposal.parties), default=0))
        return cls(highest.bit_length())

    def pack(self, template: str, ids: Sequence[int]) -> int:
        if len(ids) > MOST_PARTIES:
            raise ValueError(f"{len(ids)} parties: at most {MOST_PARTIES}")
        key = self.ranks[template] << self.template_shift | len(ids)
        for listing_id, shift in zip(ids, self.shifts[len(ids)], strict=True):
            key |= listing_id << shift
        return key

    def template(self, key: int) -> str:
        return self.NAMES[key >> self.template_shift]

    def ids(self, key: int) -> tuple[int, ...]:
        mask = self.mask
        return tuple([key >> shift & mask for shift in self.shifts[key & self.COUNT_MASK]])

    def rank(self, score: int, key: int) -> int:
        """The key with the score ahead of it, so that the highest score comes first, and
        candidates of the same score in the order of :func:`candidate_tie_order` (then their
        template and ids): sorts several times faster than tuples when hundreds of thousands of
        candidates tie on their scores."""
        tie = candidate_tie_order(self.template(key), self.ids(key))
        return ((100 - score) << TIE_BITS | tie) << self.score_shift | key


TIE_BITS = 64
_TIE_MASK = (1 << TIE_BITS) - 1


def candidate_tie_order(template: str, listing_ids: Sequence[int]) -> int:
    """Where a candidate stands among those of the same score: a mix of its template and
    listings that does not follow the order in which they were posted. By their ids, as
    before, the oldest listings of a crowded city took the room under the cap whenever scores
    tied (bench/by_age.py). Made from the ids themselves, not from a packed key, whose layout
    depends on the highest id a run holds: full and incremental runs order them alike."""
    mixed = CandidateKeys.NAMES.index(template)
    for listing_id in listing_ids:
        mixed = (mixed * 1_000_003 ^ listing_id) & _TIE_MASK
    return (mixed * 0x9E3779B97F4A7C15) & _TIE_MASK


def _best_first(qualifying: dict[int, Held], keys: CandidateKeys) -> list[int]:
    """The candidates' keys, highest score first, then by template name and listing ids (so
    that runs are repeatable)."""
    return sorted(qualifying, key=lambda key: keys.rank(qualifying[key][0], key))


CHUNK = 2000


def apply(plan_: Plan, run: MatcherRun, snapshot: Snapshot, settings: MatchSettings) -> None:
    """Write the plan.

    New proposals go in chunks, so that memory stays in bounds: each proposal's explanation is
    written as its row is prepared, which encodes it at once (matching/bulk.py), and each
    chunk's rows are inserted.
    """
    now = utcnow()
    connection = db.session.connection()
    # The proposals go in on the session's connection, unseen by its events.
    note_shared_write()
    proposal_constants = {
        "status": ProposalStatus.PENDING_REVIEW.value,
        "matcher_run_id": run.id,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    proposal_ids = reserve_ids(connection, Proposal.__table__, len(plan_.create))
    for start in range(0, len(plan_.create), CHUNK):
        chunk = plan_.create[start : start + CHUNK]
        ids = proposal_ids[start : start + CHUNK]
        prepare(
            connection.dialect,
            Proposal.__table__,
            ("id", "template", "score", "explanation", "fingerprint"),
            # Each explanation written only as its row is read, which prepare() processes
            # (encodes) at once: none is held beyond its row.
            (
                (pid, c.template, c.score, c.write_explanation(snapshot, settings), c.fingerprint)
                for pid, c in zip(ids, chunk, strict=True)
            ),
            proposal_constants,
        ).execute(connection)
        prepare(
            connection.dialect,
            ProposalParty.__table__,
            ("proposal_id", "organisation_id", "listing_id", "role", "position"),
            [
                (pid, party.listing.org_id, party.listing.id, party.role, position)
                for pid, candidate in zip(ids, chunk, strict=True)
                for position, party in enumerate(candidate.parties)
            ],
            {"created_at": now},
        ).execute(connection)
    revived = withdrawn = 0
    planned = [(ProposalStatus.WITHDRAWN, pid, c) for pid, c in plan_.revive] + [
        (ProposalStatus.PENDING_REVIEW, pid, c) for pid, c in plan_.rescore
    ]
    # Worked out before the proposals are locked: from the lock to the commit, a person
    # deciding one of them waits (proposals/services.LOCK_WAIT_MS at most, then is told).
    # Held no longer than before: each was held by its proposal until the flush.
    explanations = {pid: c.explanation(snapshot, settings) for _, pid, c in planned}
    current = _lock_planned(plan_)
    for status, proposal_id, candidate in planned:
        proposal = current[proposal_id]
        if proposal.status != status:
            continue  # decided by a person since the plan read it
        proposal.score = candidate.score
        proposal.explanation = explanations[proposal_id]
        if proposal.status == ProposalStatus.WITHDRAWN:
            proposal.status = ProposalStatus.PENDING_REVIEW
            proposal.withdrawn_reason = proposal.withdrawn_at = None
            proposal.matcher_run_id = run.id
            _place_parties(proposal, candidate)
            revived += 1
    for proposal_id, reason in plan_.withdraw:
        proposal = current[proposal_id]
        if proposal.status != ProposalStatus.PENDING_REVIEW:
            continue  # decided by a person since the plan read it
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.withdrawn_reason, proposal.withdrawn_at = reason, now
        withdrawn += 1
    # Added up: an incremental run may apply several plans (see match_listing).
    run.listings_considered = (run.listings_considered or 0) + plan_.listings_considered
    run.candidates_scored = (run.candidates_scored or 0) + plan_.candidates_scored
    run.proposals_created = (run.proposals_created or 0) + len(plan_.create) + revived
    run.proposals_withdrawn = (run.proposals_withdrawn or 0) + withdrawn
    db.session.flush()


def _lock_planned(plan_: Plan) -> dict[int, Proposal]:
    """The proposals a plan revives, rescores or withdraws, locked until the run commits and
    read again as they are now. The plan read them some time ago (a full run, minutes), and a
    coordinator approving or rejecting one meanwhile does not take the matcher's lock: what a
    person decided since is left as it is, never overwritten (withdrawn after its parties were
    introduced). Locked in the order of their ids, as coverage.lock_overlapping takes them, so
    that a run and a coordinator's approval never wait for each other in a circle.

    An incremental run applies several plans in one transaction (match_listing: the listing's,
    then those of the listings its withdrawals freed), and a later plan's proposals are not in
    order after the earlier ones' it holds: waiting for one that an approval holds while the
    approval waits for one of the run's would be a deadlock (PostgreSQL fails one of them, the
    coordinator's request as likely as the run). So a later plan does not wait: it raises
    ProposalsHeld, and the run is tried again later (match_listing), as when a full run holds
    the matcher."""
    ids = sorted({pid for pid, _ in plan_.revive + plan_.rescore + plan_.withdraw})
    transaction = db.session().get_transaction()
    holding = transaction is not None and db.session.info.get(_HOLDING) is transaction
    found: dict[int, Proposal] = {}
    try:
        for start in range(0, len(ids), ANCHORS_PER_QUERY):
            found.update(
                (proposal.id, proposal)
                for proposal in db.session.scalars(
                    sa.select(Proposal)
                    .where(Proposal.id.in_(ids[start : start + ANCHORS_PER_QUERY]))
                    .order_by(Proposal.id)
                    # Their parties (each with its listing and organisation) only where they
                    # are placed again (below): held from here to the commit, 30,000 of them
                    # at 20,000 listings when the scores moved.
                    .options(sa.orm.lazyload("*"))
                    .with_for_update(key_share=True, nowait=holding)
                    .execution_options(populate_existing=True)
                )
            )
    except sa.exc.OperationalError as error:
        if holding and getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise ProposalsHeld("A proposal a later plan writes is being decided.") from error
        raise
    db.session.info[_HOLDING] = db.session().get_transaction()
    revived = sorted(pid for pid, _ in plan_.revive)
    for start in range(0, len(revived), ANCHORS_PER_QUERY):
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.id.in_(revived[start : start + ANCHORS_PER_QUERY]))
            .options(sa.orm.selectinload(Proposal.parties))
            .execution_options(populate_existing=True)
        ).all()
    return found


# The transaction whose run holds proposals locked by a plan it applied (_lock_planned).
_HOLDING = "matchmaker.matcher_holds_proposals"


def _place_parties(proposal: Proposal, candidate: Candidate) -> None:
    """A withdrawn proposal revived: its listings in the order and roles the candidate gives
    them now, which may not be those it was made with (a consortium's partner may fill another
    gap first once its anchor changed). Every later run rebuilds it from these (plan), and
    would withdraw it again if they were the old ones."""
    placed = {
        party.listing.id: (position, party.role) for position, party in enumerate(candidate.parties)
    }
    for party in proposal.parties:
        party.position, party.role = placed[party.listing_id]
    proposal.parties.sort(key=lambda party: party.position)


def _log_start(run: MatcherRun) -> None:
    logger.info(
        "matcher run %s (%s) started",
        run.id,
        run.kind.value,
        extra={"run_id": run.id, "run_kind": run.kind.value, "focus_listing": run.focus_listing_id},
    )


def _log_end(run: MatcherRun) -> None:
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    logger.info(
        "matcher run %s (%s) %s: %s listings, %s candidates scored, %s proposed, %s withdrawn",
        run.id,
        run.kind.value,
        run.status.value,
        run.listings_considered,
        run.candidates_scored,
        run.proposals_created,
        run.proposals_withdrawn,
        extra={
            "run_id": run.id,
            "run_kind": run.kind.value,
            "run_status": run.status.value,
            "seconds": seconds,
            "listings_considered": run.listings_considered,
            "candidates_scored": run.candidates_scored,
            "proposals_created": run.proposals_created,
            "proposals_withdrawn": run.proposals_withdrawn,
        },
    )


def _lock(wait: bool, seconds: float = 0.0) -> bool:
    """Take the matcher's lock for this transaction (PostgreSQL); other engines serialise
    writers themselves."""
    if db.engine.dialect.name != "postgresql":
        return True
    if wait and not seconds:
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        return True
    deadline = time.monotonic() + seconds
    while True:
        if db.session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(ADVISORY_LOCK_KEY))):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


@contextmanager
def batch_memory() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a run. A run creates hundreds of
    thousands of short-lived objects next to a large snapshot that the collector would otherwise
    scan again and again (it made a 50k-listing run two to three times slower, and an
    incremental run's neighbourhood at 50k listings about a sixth slower); nothing a run
    creates is cyclic garbage, and reference counting frees it as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_full(
    *,
    settings: MatchSettings | None = None,
    wait: bool = False,
    progress: Callable[[int], None] | None = None,
) -> MatcherRun:
    """Match every open listing. The caller commits. Raises MatcherBusy if a run is under way."""
    if not _lock(wait):
        raise MatcherBusy("Another matcher run is under way.")
    run = MatcherRun(kind=RunKind.FULL, started_at=utcnow())
    db.session.add(run)
    db.session.flush()
    _log_start(run)
    settings = settings or load_settings()
    with batch_memory():
        snapshot = full_snapshot()
        apply(plan(snapshot, settings, progress=progress), run, snapshot, settings)
    run.status, run.finished_at = RunStatus.FINISHED, utcnow()
    _log_end(run)
    return run


# The listings paired with one listing in a live proposal.
_PAIRED_WITH = sa.select(ProposalParty.listing_id).where(
    ProposalParty.proposal_id.in_(
        sa.select(ProposalParty.proposal_id)
        .join(Proposal, Proposal.id == ProposalParty.proposal_id)
        .where(
            ProposalParty.listing_id == sa.bindparam("listing_id"),
            Proposal.template == PairTemplate.name,
            Proposal.status.in_(LIVE_STATUSES),
        )
    )
)


def _may_take_any(
    snapshot: Snapshot, settings: MatchSettings, asker: ListingView, offers: Collection[int]
) -> bool:
    """Whether one of ``offers`` is among the likeliest partners of ``asker`` (a need or
    challenge), read on the asker's own neighbourhood: what a full run pairs it with."""
    return any(view.id in offers for view in likeliest(snapshot, settings, asker))


def _farther_takers(snapshot: Snapshot, settings: MatchSettings, offer: ListingView) -> list[int]:
    """The needs and challenges beyond what the neighbourhood of ``offer`` holds whole (they
    look farther than its region, or lie beyond it) that a full run may pair with it: those of
    its own likeliest with whom it scores at least the minimum (pair.farther_takers), with room
    under the cap and not paired with it yet, while it has room itself, that count it among
    their likeliest partners on their own neighbourhood. The offer's run ranks their pairs
    with those of its region (pair.takers), best first, as a full run does. Before, the offer's
    own ranking stood in for theirs, and on dense data made pairs a full run did not."""
    candidates = farther_takers(snapshot, settings, offer)
    if not candidates:
        return []
    full = _at_cap([*candidates, offer.id], settings)
    if offer.id in full:
        return []
    paired = set(db.session.scalars(_PAIRED_WITH, {"listing_id": offer.id}))
    found = []
    for asker_id in candidates:
        asker = db.session.get(Listing, asker_id)
        if asker_id in full or asker_id in paired or asker is None:
            continue
        around_it = neighbourhood_snapshot(asker)
        view = around_it.listings.get(asker_id)
        if view is not None and _may_take_any(around_it, settings, view, {offer.id}):
            found.append(asker_id)
    return found


def _match_one(
    listing: Listing, run: MatcherRun, settings: MatchSettings
) -> tuple[list[int], list[int]]:
    """Plan and apply the proposals of one listing; returns the ids of the proposals it
    withdrew, and, for an offer, the needs and challenges beyond its region that count it
    among their likeliest partners (:func:`_farther_takers`): their pairs with it were ranked
    here, but only a run of theirs, on their own neighbourhood, grows the consortium it may
    join as their partner."""
    snapshot = neighbourhood_snapshot(listing)
    withdrew: list[int] = []
    if listing.id in snapshot.listings:
        view = snapshot.listings[listing.id]
        if not view.asks:
            snapshot.memo[FARTHER_TAKERS] = _farther_takers(snapshot, settings, view)
        planned = plan(snapshot, settings, focus=listing.id)
        if planned.withdraw:
            # A proposal of its own it withdraws (its rules no longer hold with the roles it
            # was made with) may be one its listings make again, with other roles: revived by
            # a second plan, once the first is written, as a full run keeps it. Before, the run
            # of a partner revived it, when that partner's run grew the focus's partnerships.
            apply(planned, run, snapshot, settings)
            withdrew = [pid for pid, _ in planned.withdraw]
            planned = plan(snapshot, settings, focus=listing.id)
            planned.listings_considered = 0  # counted by the first
    else:
        # Not live any more: withdraw what it has pending, propose nothing.
        pending = db.session.scalars(
            sa.select(Proposal.id)
            .join(ProposalParty)
            .where(
                ProposalParty.listing_id == listing.id,
                Proposal.status == ProposalStatus.PENDING_REVIEW,
            )
        ).all()
        planned = Plan(withdraw=[(pid, NOT_LIVE) for pid in pending], listings_considered=1)
    apply(planned, run, snapshot, settings)
    farther: list[int] = snapshot.memo.get(FARTHER_TAKERS, [])
    return [*withdrew, *(pid for pid, _ in planned.withdraw)], farther


def _match_freed(
    withdrawn: list[int],
    run: MatcherRun,
    settings: MatchSettings,
    done: int,
    shortlisted: Collection[int] = (),
    farther: Collection[int] = (),
) -> None:
    """The other listings of the proposals just withdrawn have room again under the cap:
    match them too, so that the proposals end where a full run would put them; and so on
    for the proposals that matching them withdraws (a listing already matched in this run,
    ``done`` too, is matched again when a later withdrawal frees it: it had no room then).
    ``shortlisted``: listings to match with the first of them (see :func:`_shortlisted_with`);
    ``farther``: the needs beyond the region of the offer ``done`` that take it (see
    :func:`_match_one`), and so on for the offers matched here, each matched once."""
    seen = set(withdrawn)
    also = (set(shortlisted) | set(farther)) - {done}
    asked = also | {done}
    while withdrawn or also:
        freed = db.session.scalars(
            sa.select(Listing)
            .where(
                Listing.id.in_(
                    sa.select(ProposalParty.listing_id).where(
                        ProposalParty.proposal_id.in_(withdrawn), ProposalParty.listing_id != done
                    )
                )
                | Listing.id.in_(also)
            )
            .order_by(Listing.id)
        ).all()
        done, withdrawn, also = 0, [], set()  # ``done``: planned with its own withdrawals' room
        for other in freed:
            withdrew, takers = _match_one(other, run, settings)
            withdrawn.extend(pid for pid in withdrew if pid not in seen)
            also.update(takers)
        also -= asked
        asked |= also
        seen.update(withdrawn)


def _shortlisted_with(listing: Listing, settings: MatchSettings) -> list[int]:
    """The live needs and challenges that had ``listing``, an offer no longer live (closed,
    paused, expired, or its organisation no longer verified), among their likeliest partners,
    and into whose shortlist, now that it has left, an offer moves up that scores enough with
    them to be proposed (with them alone, or as a consortium's partner), where both have
    room under the cap: found on its neighbourhood with it (pair.takers) and without it.
    Only a run of theirs reads their shortlists: without one, such a need waited for the
    nightly full run.

    Only those: in a dense city an offer is among the likeliest partners of a hundred needs
    or more, and matching them all again cost 8 s of CPU a closing offer instead of 0.6 s
    (20,000 dense listings); most of them gain nobody they could be proposed with."""
    if listing.kind != ListingKind.OFFER or listing.is_live():
        return []
    view = view_of(listing.id)
    if view is None:
        return []
    without = neighbourhood_snapshot(listing)
    with_it = replace(without, listings={**without.listings, view.id: view}, memo={}, scratch={})
    least = settings.min_score + PARTNER_MARGIN
    moved_up: dict[int, list[int]] = {}
    for asker in takers(with_it, settings, view):
        before = {giver.id for giver in likeliest(with_it, settings, asker)}
        after = shortlist(without, settings, without.listings[asker.id])
        newcomers = [
            giver.id for giver, _, (score, _) in after if giver.id not in before and score >= least
        ]
        if newcomers:
            moved_up[asker.id] = newcomers
    full = _at_cap({i for ids in moved_up.values() for i in ids} | set(moved_up), settings)
    return [
        asker_id
        for asker_id, newcomers in moved_up.items()
        if asker_id not in full and any(giver_id not in full for giver_id in newcomers)
    ]


def _at_cap(listing_ids: Collection[int], settings: MatchSettings) -> set[int]:
    """Those of ``listing_ids`` in as many live proposals as the cap allows, counted as an
    incremental run counts them (:func:`_around`)."""
    live, _, _ = _around(sorted(listing_ids))
    return {lid for lid in listing_ids if live[lid] >= settings.max_proposals_per_listing}


def match_listing(listing: Listing) -> MatcherRun | None:
    """Match one listing that was just created, edited, reopened or closed. The caller commits.

    Returns None (and leaves matching to the next full run) if a full run holds the lock for
    more than a few seconds, or a person's request holds a proposal that a later plan of the
    run writes (_lock_planned); the caller rolls back.
    """
    db.session.flush()
    if not _lock(wait=True, seconds=3.0):
        logger.warning(
            "listing %s not matched: another run holds the matcher's lock",
            listing.id,
            extra={"listing_id": listing.id},
        )
        return None
    run = MatcherRun(kind=RunKind.INCREMENTAL, started_at=utcnow(), focus_listing_id=listing.id)
    db.session.add(run)
    db.session.flush()
    _log_start(run)
    settings = load_settings()
    with batch_memory():
        try:
            withdrawn, farther = _match_one(listing, run, settings)
            shortlisted = _shortlisted_with(listing, settings)
            _match_freed(withdrawn, run, settings, listing.id, shortlisted, farther)
        except ProposalsHeld:
            logger.warning(
                "listing %s not matched: a proposal it would change is being decided",
                listing.id,
                extra={"listing_id": listing.id},
            )
            return None
    run.status, run.finished_at = RunStatus.FINISHED, utcnow()
    _log_end(run)
    return run


def siblings_to_match(
    listing: Listing, live_before: bool, themes_before: Collection[str]
) -> list[int]:
    """The organisation's other live listings to match again after ``listing`` changed (was
    posted, edited, paused, reopened or closed; ``live_before`` and ``themes_before`` are
    what it was), when the change alters what the organisation needs or offers: one listing's
    change can lift or drop the proposals of its siblings. What it offers is read wherever one
    of its listings meets a partner (the mutual rule, rules.mutual, and a consortium partner's
    joining, consortium._joins): all of them. What it needs is read only where one of its
    offers meets a partner (as the mutual rule's giver, or joining a consortium): its offers.
    None when neither changes: the shared vocabulary moves with every listing, a little, and
    the nightly full run settles it (matching/tasks.py)."""
    rows = [row[1:] for row in live_themes([listing.organisation_id])]
    asks = listing.kind != ListingKind.OFFER
    now = {slug for listing_id, _, slug in rows if listing_id == listing.id}
    before = set(themes_before) if live_before else set()
    others = {
        slug
        for listing_id, kind, slug in rows
        if listing_id != listing.id and (kind != ListingKind.OFFER) == asks
    }
    if not (now ^ before) - others:
        return []
    return sorted(
        {
            listing_id
            for listing_id, kind, _ in rows
            if listing_id != listing.id and (not asks or kind == ListingKind.OFFER)
        }
    )


@dataclass(frozen=True)
class KinQuestion:
    """Which live listings of a city-region (``around``) now relate to other ones by their
    words, since the organisation ``org_id`` had listings of ``words_before`` (their stems;
    None: none) there, at ``place_before``: asked in a change's transaction, where working it
    out is cheap, and answered by a job after the commit (:func:`kin_answer`), which reads the
    city-region with the neighbourhood of the listing ``focus_id`` (some 160 ms of CPU on
    50k dense listings, too much for the member's request). ``queued``: the listings the
    change's transaction already queued to match (the focus, its organisation's others): the
    answer leaves them out, as the transaction's own jobs match each listing once."""

    focus_id: int
    around: Place
    org_id: int
    words_before: tuple[str, ...] | None
    place_before: Place
    queued: tuple[int, ...] = ()

    def params(self) -> dict[str, Any]:
        """As a job's parameters (JSON)."""
        return {
            "focus": self.focus_id,
            "around": list(self.around),
            "organisation": self.org_id,
            "words_before": None if self.words_before is None else list(self.words_before),
            "place_before": list(self.place_before),
            "queued": list(self.queued),
        }

    @classmethod
    def of(cls, params: dict[str, Any]) -> KinQuestion:
        words = params["words_before"]
        return cls(
            params["focus"],
            Place(*params["around"]),
            params["organisation"],
            None if words is None else tuple(words),
            Place(*params["place_before"]),
            tuple(params.get("queued", ())),  # none in a job queued before it was asked
        )


def kin_answer(question: KinQuestion) -> list[int]:
    """The listings to match again for ``question`` (its focus is matched by its own job)."""
    focus = db.session.get(Listing, question.focus_id)
    if focus is None:  # deleted since
        return []
    words = None if question.words_before is None else set(question.words_before)
    found = _kin_listings(focus, question.around, question.org_id, words, question.place_before)
    queued = {question.focus_id, *question.queued}
    return [listing_id for listing_id in found if listing_id not in queued]


def words_to_match(
    listing: Listing, live_before: bool, words_before: str | None
) -> tuple[list[int], KinQuestion | None]:
    """The live listings to match again because ``listing``'s words came, went or changed (it
    was posted, edited, paused, reopened or closed; ``live_before`` and ``words_before``, its
    stored words or None if they did not change, what it was). Its own is matched anyway.

    - Its organisation's other live listings, when its organisation now uses words it did not,
      or no longer uses some, in its name, description and listings: its profile
      (affinity.py), which every proposal of its listings is scored with.
    - The listings of its city-region whose organisations' kin moved (related.kin_moved): the
      related pairs its words may have made or unmade, its own organisation's among them.

    The first are returned, the second as the question a job answers after the commit
    (:class:`KinQuestion`). Nothing when neither its words nor whether it is live changed."""
    live_now = listing.is_live()
    if words_before is None:
        words_before = listing.match_words
    if live_now == live_before and (not live_now or words_before == listing.match_words):
        return [], None
    organisation = listing.organisation
    others = [row for row in _open_and_current(organisation.id) if row[0] != listing.id]
    words = {stem for _, stored in others for stem in stems(stored or "")}
    then = set(stems(words_before or "")) if live_before else set()
    now = set(stems(listing.match_words or "")) if live_now else set()
    moved = (then ^ now) - words  # the words its organisation's listings start or stop using
    found: set[int] = set()
    said = organisation_words(organisation.name, organisation.description, organisation.language)
    if moved - said.keys():
        found.update(listing_id for listing_id, _ in others)
    place = Place.of(organisation)
    question = None
    # In the place before and after (by another listing), only a distinctive word it starts or
    # stops using can relate anyone; else it came or left, which moves where the place's
    # common language begins.
    if not others or distinctive(words_snapshot(moved), moved, place.city, place.region):
        before = words | then if others or live_before else None
        question = KinQuestion(
            listing.id,
            place,
            organisation.id,
            None if before is None else tuple(sorted(before)),
            place,
        )
    found.discard(listing.id)
    return sorted(found), question


def partners_to_match(listing: Listing) -> list[int]:
    """The other listings of the pending proposals of ``listing``, which was edited: its run
    rebuilds those proposals, but what each of their needs grows around it reads the listing
    too (a consortium takes the strongest partner that fills a gap still open: the edited one,
    or another in its place), and only a run of theirs grows it again."""
    return sorted(
        db.session.scalars(
            sa.select(ProposalParty.listing_id)
            .join(Proposal)
            .where(
                Proposal.status == ProposalStatus.PENDING_REVIEW,
                Proposal.id.in_(
                    sa.select(ProposalParty.proposal_id).where(
                        ProposalParty.listing_id == listing.id
                    )
                ),
                ProposalParty.listing_id != listing.id,
            )
            .distinct()
        )
    )


def organisation_kin_to_match(
    organisation: Organisation, live_before: bool, place_before: Place
) -> list[KinQuestion]:
    """The same for an organisation verified or no longer verified (``live_before``: it was),
    or whose place changed (``place_before``): which live listings of the city-regions it came
    into or left its words relate anew, as questions a job answers after the commit (its own
    listings are matched again anyway)."""
    live_now = organisation.is_verified
    place = Place.of(organisation)
    if live_now == live_before and (not live_now or place == place_before):
        return []
    listings = _open_and_current(organisation.id)
    if not listings:
        return []
    words = tuple(sorted({stem for _, stored in listings for stem in stems(stored or "")}))
    focus = listings[0][0]
    stayed = region_id(place.country, place.region, place.subdivision) == region_id(
        place_before.country, place_before.region, place_before.subdivision
    )
    questions = []
    if live_now:  # the city-region it is in: before, it was not there, or not as it is now
        before = words if live_before and stayed else None
        questions.append(KinQuestion(focus, place, organisation.id, before, place_before))
    if live_before and not (live_now and stayed):  # the city-region it left
        questions.append(KinQuestion(focus, place_before, organisation.id, words, place_before))
    return questions


def _kin_listings(
    focus: Listing,
    around: Place,
    org_id: int,
    words_before: set[str] | None,
    place_before: Place,
) -> list[int]:
    """The live listings of the city-region of ``around`` whose organisations' kin moved
    (related.kin_moved) since the organisation ``org_id`` had listings of ``words_before``
    (their stems; None: none) there, at ``place_before``; the city-region as it is now,
    read with the neighbourhood of ``focus``."""
    snapshot = neighbourhood_snapshot(focus, around)
    region = region_id(around.country, around.region, around.subdivision)
    before = (
        None
        if words_before is None
        else distinctive(snapshot, words_before, place_before.city, place_before.region)
    )
    moved = kin_moved(snapshot, region, org_id, before)
    return sorted(
        view.id
        for view in snapshot.listings.values()
        if view.org_id in moved and view.region_id == region
    )


def _open_and_current(org_id: int) -> list[tuple[int, str | None]]:
    """The id and stored words of each open and current listing of the organisation (live
    while it is verified), by id."""
    return [
        (listing_id, stored)
        for listing_id, stored in db.session.execute(
            sa.select(Listing.id, Listing.match_words)
            .where(Listing.organisation_id == org_id, open_and_current())
            .order_by(Listing.id)
        )
    ]
