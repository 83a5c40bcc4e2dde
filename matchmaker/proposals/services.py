"""Proposals after the matcher: review, introductions, responses, outcomes, export."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import selectinload

from matchmaker.accounts.models import User
from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import format_list
from matchmaker.core.i18n import gettext as _
from matchmaker.core.models import AuditEvent
from matchmaker.core.paging import Key, order_by
from matchmaker.db import database_busy, utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Theme, listing_themes
from matchmaker.matching.explanations import Reader
from matchmaker.matching.explanations import render as render_explanation
from matchmaker.notifications.services import notify
from matchmaker.organisations.models import (
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from matchmaker.places.names import place_key
from matchmaker.proposals.coverage import (
    cover_overlapping,
    introduced_overlapping,
    lock_overlapping,
    restore_covered,
)
from matchmaker.proposals.events import proposal_released
from matchmaker.proposals.models import (
    Outcome,
    OutcomeKind,
    Proposal,
    ProposalParty,
    ProposalResponse,
    ProposalStatus,
    RejectionReason,
    ResponseDecision,
)
from matchmaker.territories.services import EVERYTHING, Coverage

logger = logging.getLogger(__name__)

REMINDER_AFTER = timedelta(days=30)


class ProposalConflict(DomainError):
    """Someone else decided first; the message says who and what."""


class ProposalRescored(ProposalConflict):
    """It still waits for review, but not as the person read it: the matcher scored it again
    (its version moved on). Read it again, then decide."""


class ProposalBusy(ProposalConflict):
    """Another transaction held the proposal longer than a person waits (LOCK_WAIT_MS): in
    practice a full matcher run, which holds the proposals it rewrites until it commits
    (engine._lock_planned), some 15 s at 20,000 listings. Nothing was saved; the request can
    be sent again once the run is done."""


# How long a decision or an answer waits for a proposal another transaction holds. Another
# person's decision or answer holds it for milliseconds; a full run, for seconds to minutes,
# past gunicorn's 30 s timeout (the worker killed, the person shown the proxy's error page).
LOCK_WAIT_MS = 2000


def busy(error: Exception) -> ProposalBusy | None:
    """What the person is told when ``error`` says another transaction held what theirs locks
    or writes for too long: PostgreSQL gave up after LOCK_WAIT_MS (:func:`waiting_briefly`),
    SQLite after its busy_timeout (5 s: a full run there holds the database's write lock from
    its first write to its commit). None for any other error."""
    if isinstance(error, ProposalBusy):
        return error
    if not database_busy(error):
        return None
    return ProposalBusy(
        _(
            "The matcher is updating this proposal right now. Nothing was saved: "
            "try again in a minute."
        )
    )


@contextmanager
def waiting_briefly() -> Iterator[None]:
    """The statements inside wait at most LOCK_WAIT_MS for a lock (PostgreSQL's lock_timeout,
    for this transaction, put back to the default after them); past it, ProposalBusy (the
    transaction is then aborted: the caller rolls back). SQLite has no row locks: a writer
    waits for another at its first write (busy_timeout), which :func:`busy` tells apart."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    db.session.execute(sa.text(f"SET LOCAL lock_timeout = {LOCK_WAIT_MS}"))
    try:
        yield
    except sa.exc.OperationalError as error:
        held = busy(error)
        if held is None:
            raise
        raise held from error
    db.session.execute(sa.text("SET LOCAL lock_timeout TO DEFAULT"))


# Review queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    template: str = ""
    theme: str = ""
    country: str = ""
    region: str = ""
    organisation_kind: str = ""
    min_score: int = 0


# The review queue's order (highest score first), by which its pages follow one another.
QUEUE_ORDER = (Key(Proposal.score, descending=True), Key(Proposal.id))


def queue_statement(
    filters: QueueFilters, coverage: Coverage = EVERYTHING
) -> sa.Select[tuple[Proposal]]:
    """Pending proposals that ``coverage`` holds, highest score first, narrowed by every filter
    given."""
    statement = sa.select(Proposal).where(
        Proposal.status == ProposalStatus.PENDING_REVIEW, coverage.proposals()
    )
    if filters.template:
        statement = statement.where(Proposal.template == filters.template)
    if filters.min_score:
        statement = statement.where(Proposal.score >= filters.min_score)
    party_conditions = []
    if filters.country:
        party_conditions.append(Organisation.country == filters.country)
    if filters.region:
        party_conditions.append(Organisation.region_folded == place_key(filters.region))
    if filters.organisation_kind:
        party_conditions.append(Organisation.kind == OrganisationKind(filters.organisation_kind))
    if party_conditions:
        statement = statement.where(
            Proposal.id.in_(
                sa.select(ProposalParty.proposal_id)
                .join(Organisation, Organisation.id == ProposalParty.organisation_id)
                .where(*party_conditions)
            )
        )
    if filters.theme:
        statement = statement.where(
            Proposal.id.in_(
                sa.select(ProposalParty.proposal_id)
                .join(listing_themes, listing_themes.c.listing_id == ProposalParty.listing_id)
                .join(Theme, Theme.id == listing_themes.c.theme_id)
                .where(Theme.slug == filters.theme)
            )
        )
    return statement.order_by(*order_by(QUEUE_ORDER))


def history(proposal: Proposal) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.subject_type == "proposal", AuditEvent.subject_id == proposal.id)
            .order_by(AuditEvent.id)
        )
    )


# Decisions ---------------------------------------------------------------------------------


def _check_pending(proposal: Proposal, expected_version: int | None) -> None:
    stale = expected_version is not None and expected_version != proposal.version
    if proposal.status != ProposalStatus.PENDING_REVIEW:
        raise ProposalConflict(conflict_message(proposal))
    if stale:
        raise ProposalRescored(conflict_message(proposal))


def lock_proposal(proposal: Proposal) -> None:
    """Hold ``proposal``'s row until the transaction ends and read it again as it is now: a
    request deciding or answering meanwhile is seen, and the next one waits for this one
    (PostgreSQL; SQLite lets one writer at a time anyway). Raises ProposalBusy if another
    transaction holds it for longer than LOCK_WAIT_MS (a full matcher run)."""
    with waiting_briefly():
        db.session.refresh(proposal, with_for_update={"key_share": True})


def conflict_message(proposal: Proposal) -> str:
    if proposal.status == ProposalStatus.PENDING_REVIEW:
        # Still waiting, with another version: the matcher scored it again meanwhile.
        return _(
            "This proposal changed while you were reading it (the matcher scored it again). "
            "Read it again, then decide."
        )
    if proposal.decided_by is not None and proposal.decided_at is not None:
        return _(
            "%(name)s already decided on this proposal (%(status)s) at %(time)s.",
            name=proposal.decided_by.display_name,
            status=proposal.status.label.lower(),
            time=proposal.decided_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
    return _(
        "This proposal is %(status)s; it cannot be decided now.",
        status=proposal.status.label.lower(),
    )


def _members(organisations: list[Organisation]) -> list[User]:
    ids = [o.id for o in organisations]
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id.in_(ids))
            .order_by(User.id)
        ).unique()
    )


def _party_organisations(proposal: Proposal) -> list[Organisation]:
    return [party.organisation for party in proposal.parties]


def _names(proposal: Proposal) -> LazyString:
    """The parties' names as each recipient's language lists them ("A, B and C"; "A وB"),
    written out when the notification is, in that language."""
    return LazyString(format_list, [o.name for o in _party_organisations(proposal)])


def approve_proposal(
    *, proposal: Proposal, actor: User, note: str | None = None, expected_version: int | None
) -> list[Proposal]:
    """Introduce the parties: each member of each party organisation is notified. Returns the
    pending proposals it overlaps, which leave the queue (see coverage.py). Raises
    ProposalBusy if a full matcher run holds one of them (lock_proposal)."""
    with waiting_briefly():
        lock_overlapping(proposal)
    _check_pending(proposal, expected_version)
    introduced = introduced_overlapping(proposal)
    if introduced is not None:
        raise ProposalConflict(
            _(
                "Proposal #%(id)d, which overlaps this one, is introduced already: this one "
                "cannot be introduced too.",
                id=introduced.id,
            )
        )
    proposal.status = ProposalStatus.APPROVED
    proposal.decided_at, proposal.decided_by = utcnow(), actor
    proposal.decision_note = (note or "").strip() or None
    record_event(
        "proposal:approve", actor=actor, subject=proposal, details={"note": proposal.decision_note}
    )
    covered = cover_overlapping(proposal=proposal, actor=actor)
    for other in covered:  # out of the queue: their other listings have room again
        proposal_released.send(other)
    url = url_for("proposals.show", proposal_id=proposal.id)
    notify(
        _members(_party_organisations(proposal)),
        kind="proposal:introduced",
        message=_l(
            "A coordinator introduces you to a partnership: %(names)s.", names=_names(proposal)
        ),
        url=url,
        proposal_id=proposal.id,
        subject=_l("A partnership is proposed to you"),
        template="proposal_introduced",
        context={"proposal": proposal, "note": proposal.decision_note},
    )
    return covered


def reject_proposal(
    *,
    proposal: Proposal,
    actor: User,
    reason: RejectionReason,
    note: str | None = None,
    expected_version: int | None,
) -> None:
    """Reject: the parties are never told, and this combination is never proposed again."""
    lock_proposal(proposal)
    _check_pending(proposal, expected_version)
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_at, proposal.decided_by = utcnow(), actor
    proposal.rejection_reason = reason
    proposal.decision_note = (note or "").strip() or None
    record_event(
        "proposal:reject",
        actor=actor,
        subject=proposal,
        details={"reason": reason.value, "note": proposal.decision_note},
    )
    proposal_released.send(proposal)  # its listings have room again


def recorded_response(
    *, proposal: Proposal | None, organisation: Organisation
) -> ProposalResponse | None:
    """The answer ``organisation`` gave to ``proposal``, if it has answered."""
    if proposal is None:
        return None
    return next((r for r in proposal.responses if r.organisation_id == organisation.id), None)


def not_verified_message(organisation: Organisation) -> str:
    return _(
        "%(name)s is not verified at the moment: this introduction takes no answers until it is.",
        name=organisation.name,
    )


def respond(
    *,
    proposal: Proposal,
    organisation: Organisation,
    actor: User,
    decision: ResponseDecision,
    message: str | None = None,
    show_publicly: bool = False,
) -> None:
    """One party answers. All accepted: agreed, contacts shared. One declined: ended for all.

    ``show_publicly``: the party agrees to the partnership being shown on the home page once
    agreed (shown only when every party said so)."""
    # Two parties answering at once would each miss the other's answer, and nobody would see
    # that everyone accepted: the second waits for the first and reads its answer.
    lock_proposal(proposal)
    if proposal.status != ProposalStatus.APPROVED:
        raise DomainError(
            _(
                "This proposal is %(status)s; it takes no more answers.",
                status=proposal.status.label.lower(),
            )
        )
    if organisation.id not in {p.organisation_id for p in proposal.parties}:
        raise DomainError(_("This organisation is not a party to the proposal."))
    closed = next((p.organisation for p in proposal.parties if p.organisation.is_closed), None)
    if closed is not None:
        # Its contacts are gone and it takes part in nothing: no partnership is agreed with it.
        raise DomainError(
            _("%(name)s is closed: this introduction takes no more answers.", name=closed.name)
        )
    unverified = next(
        (p.organisation for p in proposal.parties if not p.organisation.is_verified), None
    )
    if unverified is not None:
        # Its verification was taken back after the introduction: agreed, it would be given
        # (and give) contact details the platform no longer vouches for.
        raise DomainError(not_verified_message(unverified))
    if recorded_response(proposal=proposal, organisation=organisation) is not None:
        raise DomainError(_("%(name)s has already answered.", name=organisation.name))
    message = (message or "").strip() or None
    if decision == ResponseDecision.DECLINED and not message:
        raise DomainError(_("Say why you decline, so the coordinators can learn."), "message")
    proposal.responses.append(
        ProposalResponse(
            organisation=organisation,
            decision=decision,
            message=message,
            responded_by=actor,
            is_shown_publicly=show_publicly and decision == ResponseDecision.ACCEPTED,
        )
    )
    record_event(
        "proposal:accept" if decision == ResponseDecision.ACCEPTED else "proposal:decline",
        actor=actor,
        subject=proposal,
        details={"organisation": organisation.name, "message": message},
    )
    url = url_for("proposals.show", proposal_id=proposal.id)
    if decision == ResponseDecision.DECLINED:
        proposal.status, proposal.closed_at = ProposalStatus.DECLINED, utcnow()
        # Its listings have room again; what it covered is back, to be held to the rules.
        for released in [proposal, *restore_covered(proposal=proposal, actor=actor)]:
            proposal_released.send(released)
        _tell_the_others(
            proposal,
            organisation,
            kind="proposal:declined",
            message=_l(
                "%(name)s declined the partnership: %(names)s.",
                name=organisation.name,
                names=_names(proposal),
            ),
            subject=_l("A proposed partnership was declined"),
            template="proposal_declined",
        )
        return
    db.session.flush()  # the new response's organisation_id is set from here on
    answered = {r.organisation_id for r in proposal.responses}
    if answered >= {p.organisation_id for p in proposal.parties}:
        proposal.status, proposal.closed_at = ProposalStatus.AGREED, utcnow()
        record_event("proposal:agree", actor=actor, subject=proposal)
        notify(
            _members(_party_organisations(proposal)),
            kind="proposal:agreed",
            message=_l(
                "Everyone accepted: %(names)s. Contact details are now shared.",
                names=_names(proposal),
            ),
            url=url,
            proposal_id=proposal.id,
            subject=_l("Everyone accepted: contact details are shared"),
            template="proposal_agreed",
            context={"proposal": proposal},
        )


def of_organisation(organisation: Organisation, *statuses: ProposalStatus) -> sa.Select[Any]:
    """The proposals in one of ``statuses`` that hold a listing of ``organisation``, by id."""
    return (
        sa.select(Proposal)
        .where(
            Proposal.status.in_(statuses),
            Proposal.id.in_(
                sa.select(ProposalParty.proposal_id).where(
                    ProposalParty.organisation_id == organisation.id
                )
            ),
        )
        .order_by(Proposal.id)
    )


def _tell_the_others(
    proposal: Proposal,
    organisation: Organisation,
    *,
    kind: str,
    message: Any,
    subject: Any,
    template: str,
) -> None:
    """The other parties' members learn what ``organisation`` did to ``proposal`` (declined
    it, or closed), in the app and by mail."""
    others = [o for o in _party_organisations(proposal) if o.id != organisation.id]
    notify(
        _members(others),
        kind=kind,
        message=message,
        url=url_for("proposals.show", proposal_id=proposal.id),
        proposal_id=proposal.id,
        subject=subject,
        template=template,
        context={"proposal": proposal, "organisation": organisation},
    )


def end_introductions(
    *, organisation: Organisation, actor: User | None, reason: str
) -> list[Proposal]:
    """``organisation`` closes: its introductions still waiting for answers end, and it takes
    part in none again. Withdrawn, not declined on its behalf: nobody turned the others down,
    and a declined proposal would keep them from ever being proposed to one another again
    (engine: every pair of a declined proposal is suppressed). As when a party declines, the
    other parties are told, and what the introduction covered returns to the queue
    (coverage.restore_covered). Agreed partnerships stay, as history. ``actor`` None: the
    platform itself (``flask --app wsgi proposals end-closed-introductions``). Returns the
    introductions ended."""
    introduced = db.session.scalars(of_organisation(organisation, ProposalStatus.APPROVED)).all()
    now = utcnow()
    for proposal in introduced:
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.withdrawn_reason, proposal.withdrawn_at = reason, now
        proposal.closed_at = now
        record_event(
            "proposal:withdraw",
            actor=actor,
            subject=proposal,
            details={"reason": reason, "organisation": organisation.name},
        )
        restored = restore_covered(proposal=proposal, actor=actor, declined=False)
        for released in [proposal, *restored]:
            proposal_released.send(released)
        _tell_the_others(
            proposal,
            organisation,
            kind="proposal:ended",
            message=_l(
                "%(name)s is closed, so the introduction has ended: %(names)s.",
                name=organisation.name,
                names=_names(proposal),
            ),
            subject=_l("An introduction has ended"),
            template="proposal_ended",
        )
    return list(introduced)


def closed_with_introductions() -> list[int]:
    """The closed organisations that still take part in an introduction waiting for answers:
    closed before closing ended them (upgrading; :func:`end_introductions`), by id."""
    introduced = sa.select(ProposalParty.organisation_id).where(
        ProposalParty.proposal_id.in_(
            sa.select(Proposal.id).where(Proposal.status == ProposalStatus.APPROVED)
        )
    )
    return list(
        db.session.scalars(
            sa.select(Organisation.id)
            .where(
                Organisation.status == OrganisationStatus.CLOSED,
                Organisation.id.in_(introduced),
            )
            .order_by(Organisation.id)
        )
    )


def record_outcome(
    *,
    proposal: Proposal,
    organisation: Organisation | None,
    actor: User,
    kind: OutcomeKind,
    happened_on: date,
    note: str | None = None,
) -> Outcome:
    if proposal.status != ProposalStatus.AGREED:
        raise DomainError(_("Outcomes are recorded for agreed partnerships."))
    if happened_on > utcnow().date():
        raise DomainError(_("The date cannot be in the future."), "happened_on")
    outcome = Outcome(
        proposal=proposal,
        organisation=organisation,
        kind=kind,
        happened_on=happened_on,
        note=(note or "").strip() or None,
        recorded_by_id=actor.id,
    )
    db.session.add(outcome)
    record_event(
        "proposal:outcome",
        actor=actor,
        subject=proposal,
        details={"kind": kind.value, "happened_on": happened_on.isoformat()},
    )
    return outcome


def send_outcome_reminders(now: Any = None) -> int:
    """Remind the parties of agreements 30 days old with no outcome recorded, once.

    The agreements are locked as they are read (on PostgreSQL, ``FOR NO KEY UPDATE SKIP
    LOCKED``) until they are marked reminded: a second run at the same time leaves them to the
    first, instead of writing the same reminders and then failing on the agreements' versions."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Proposal)
        .where(
            Proposal.status == ProposalStatus.AGREED,
            Proposal.closed_at <= now - REMINDER_AFTER,
            Proposal.reminder_sent_at.is_(None),
            ~Proposal.outcomes.any(),
        )
        .options(selectinload(Proposal.parties))
        # As a decision locks a proposal (a write of its columns, not of its key): an outcome
        # or a notification naming an agreement does not wait for the whole run.
        .with_for_update(of=Proposal, key_share=True, skip_locked=True)
    ).all()
    reminded = 0
    for proposal in due:
        # One agreement whose reminder fails to be written stays for the next run (logged), and
        # does not keep the others from going.
        try:
            with db.session.begin_nested():
                notify(
                    _members(_party_organisations(proposal)),
                    kind="proposal:reminder",
                    message=_l(
                        "What came of your partnership with %(names)s? Record it in a minute.",
                        names=_names(proposal),
                    ),
                    url=f"/proposals/{proposal.id}#outcomes",
                    proposal_id=proposal.id,
                    subject=_l("What came of your partnership?"),
                    template="outcome_reminder",
                    context={"proposal": proposal},
                )
                proposal.reminder_sent_at = now
        except Exception:
            logger.exception("reminder of proposal %s not written", proposal.id)
            continue
        reminded += 1
    return reminded


def proposals_for(user: User) -> dict[str, list[Proposal]]:
    """The user's organisations' introduced proposals, grouped for their page."""
    org_ids = [m.organisation_id for m in user.memberships]
    groups: dict[str, list[Proposal]] = {
        "waiting_for_you": [],
        "waiting_for_others": [],
        "agreed": [],
        "declined": [],
        "ended": [],  # a party's organisation closed
    }
    if not org_ids:
        return groups
    proposals = db.session.scalars(
        sa.select(Proposal)
        .where(
            Proposal.was_introduced,
            Proposal.id.in_(
                sa.select(ProposalParty.proposal_id).where(
                    ProposalParty.organisation_id.in_(org_ids)
                )
            ),
        )
        .options(selectinload(Proposal.responses))
        .order_by(Proposal.updated_at.desc(), Proposal.id.desc())
    )
    for proposal in proposals:
        if proposal.status == ProposalStatus.AGREED:
            groups["agreed"].append(proposal)
        elif proposal.status == ProposalStatus.DECLINED:
            groups["declined"].append(proposal)
        elif proposal.status == ProposalStatus.WITHDRAWN:
            groups["ended"].append(proposal)
        else:
            answered = {r.organisation_id for r in proposal.responses}
            mine = {p.organisation_id for p in proposal.parties} & set(org_ids)
            key = "waiting_for_you" if mine - answered else "waiting_for_others"
            groups[key].append(proposal)
    return groups


# Export ------------------------------------------------------------------------------------


def export_proposals(status: ProposalStatus | None = None) -> dict[str, Any]:
    statement = sa.select(Proposal).order_by(Proposal.id)
    if status is not None:
        statement = statement.where(Proposal.status == status)
    reader = Reader()
    return {
        "proposals": [
            {
                "id": proposal.id,
                "template": proposal.template,
                "score": proposal.score,
                "status": proposal.status.value,
                "parties": [
                    {
                        "organisation": party.organisation.name,
                        "organisation_kind": party.organisation.kind.value,
                        "listing_title": party.listing.title,
                        "listing_kind": party.listing.kind.value,
                        "role": party.role,
                    }
                    for party in proposal.parties
                ],
                "explanation": [
                    {"rule": line.rule, "points": line.points, "reason": line.reason}
                    for line in render_explanation(proposal.template, proposal.explanation, reader)
                ],
            }
            for proposal in db.session.scalars(statement)
        ]
    }
