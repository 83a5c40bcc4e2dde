from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import User
from matchmaker.db import TimestampMixin, UpdatedMixin, str_enum
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.organisations.models import Organisation


class ProposalStatus(enum.StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"  # parties introduced, waiting for their answers
    REJECTED = "rejected"  # by a coordinator; never proposed again
    WITHDRAWN = "withdrawn"  # by the matcher: a listing closed or expired, or settings changed
    AGREED = "agreed"  # every party accepted
    DECLINED = "declined"  # a party declined; never proposed again
    COVERED = "covered"  # out of the queue: an overlapping proposal was approved (see coverage.py)

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    ProposalStatus.PENDING_REVIEW: _l("Waiting for review"),
    ProposalStatus.APPROVED: _l("Introduced"),
    ProposalStatus.REJECTED: _l("Rejected"),
    ProposalStatus.WITHDRAWN: _l("Withdrawn"),
    ProposalStatus.AGREED: _l("Agreed"),
    ProposalStatus.DECLINED: _l("Declined"),
    ProposalStatus.COVERED: _l("Covered by another proposal"),
}
# What each status means, for the help page.
STATUS_HELP = {
    ProposalStatus.PENDING_REVIEW: _l(
        "The matcher found this partnership; a coordinator has not looked at it yet. The other "
        "parties are not named to you until it is approved."
    ),
    ProposalStatus.APPROVED: _l(
        "A coordinator introduced the parties by email. Each party now accepts or declines."
    ),
    ProposalStatus.REJECTED: _l(
        "A coordinator decided it does not fit, with a reason. It is never proposed again."
    ),
    ProposalStatus.WITHDRAWN: _l(
        "A listing it was built on closed or changed, or a party's organisation closed, so the "
        "proposal no longer holds."
    ),
    ProposalStatus.AGREED: _l(
        "Every party accepted: each sees the others' contact people and can record what came of it."
    ),
    ProposalStatus.DECLINED: _l("A party declined. The same parties are not proposed again."),
    ProposalStatus.COVERED: _l(
        "A coordinator approved a larger or overlapping proposal that includes this one."
    ),
}

# Proposals that still hold a listing's attention (count towards its cap).
LIVE_STATUSES = (ProposalStatus.PENDING_REVIEW, ProposalStatus.APPROVED, ProposalStatus.AGREED)
# Proposals whose combination of listings must never be proposed again.
SUPPRESSING_STATUSES = (ProposalStatus.REJECTED, ProposalStatus.DECLINED)
# Introduced proposals that cover the pending proposals they overlap.
COVERING_STATUSES = (ProposalStatus.APPROVED, ProposalStatus.AGREED)
# Proposals whose parties were introduced (a coordinator approved them), as they stand after
# the parties' answers; an introduction also ends withdrawn when a party's organisation closes
# (Proposal.was_introduced).
INTRODUCED_STATUSES = (ProposalStatus.APPROVED, ProposalStatus.AGREED, ProposalStatus.DECLINED)


class RejectionReason(enum.StrEnum):
    NOT_RELEVANT = "not_relevant"
    ALREADY_PARTNERS = "already_partners"
    WRONG_GEOGRAPHY = "wrong_geography"
    LOW_QUALITY = "low_quality"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(REJECTION_LABELS[self])


REJECTION_LABELS = {
    RejectionReason.NOT_RELEVANT: _l("Not relevant"),
    RejectionReason.ALREADY_PARTNERS: _l("Already partners"),
    RejectionReason.WRONG_GEOGRAPHY: _l("Wrong geography"),
    RejectionReason.LOW_QUALITY: _l("Low quality"),
    RejectionReason.OTHER: _l("Other"),
}


class Proposal(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    """A collaboration the matcher suggests, with the explanation of its score."""

    __tablename__ = "proposals"
    __table_args__ = (
        sa.CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        sa.Index("ix_proposals_status_score", "status", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[int] = mapped_column()
    # [{"rule": "shared_themes", "points": 24, "params": {…}}]: the points add up to the score;
    # matching/explanations.py renders the sentences when they are read.
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    status: Mapped[ProposalStatus] = mapped_column(
        str_enum(ProposalStatus),
        default=ProposalStatus.PENDING_REVIEW,
        server_default=ProposalStatus.PENDING_REVIEW.value,
    )
    # template + sorted listing ids: the same proposal is never created twice.
    fingerprint: Mapped[str] = mapped_column(sa.String(255), unique=True)
    matcher_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("matcher_runs.id", ondelete="SET NULL")
    )
    withdrawn_reason: Mapped[str | None] = mapped_column(sa.String(255))
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    # The coordinator's decision
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    rejection_reason: Mapped[RejectionReason | None] = mapped_column(str_enum(RejectionReason))
    # When every party accepted, one declined, or one's organisation closed
    closed_at: Mapped[datetime | None] = mapped_column()
    reminder_sent_at: Mapped[datetime | None] = mapped_column()
    # Optimistic locking: two coordinators deciding at once cannot both win.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    parties: Mapped[list[ProposalParty]] = relationship(
        back_populates="proposal",
        cascade="all, delete-orphan",
        order_by="ProposalParty.position",
        lazy="selectin",
    )
    responses: Mapped[list[ProposalResponse]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalResponse.id"
    )
    outcomes: Mapped[list[Outcome]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Outcome.happened_on"
    )
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    cover: Mapped[ProposalCover | None] = relationship(
        foreign_keys="ProposalCover.proposal_id",
        back_populates="proposal",
        cascade="all, delete-orphan",
    )
    # Set when a member asked for this introduction (template "requested"), not the matcher.
    request: Mapped[IntroductionRequest | None] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.template} {self.score} {self.status.value}>"

    @hybrid_property
    def was_introduced(self) -> bool:
        """Its parties were introduced to one another, whatever came of it: approved, agreed,
        declined, or withdrawn once introduced (a party's organisation closed). Only an approval
        decides a withdrawn proposal; one withdrawn from the queue never was."""
        return self.status in INTRODUCED_STATUSES or (
            self.status == ProposalStatus.WITHDRAWN and self.decided_at is not None
        )

    @was_introduced.inplace.expression
    @classmethod
    def _was_introduced_expression(cls) -> sa.ColumnElement[bool]:
        return sa.or_(
            cls.status.in_(INTRODUCED_STATUSES),
            sa.and_(cls.status == ProposalStatus.WITHDRAWN, cls.decided_at.is_not(None)),
        )

    @property
    def listing_ids(self) -> list[int]:
        return sorted(party.listing_id for party in self.parties)

    @property
    def anchor_listing_id(self) -> int | None:
        """The need or challenge the proposal is built around: templates put it first. None
        when the first party offers (a triad of equals has no anchor)."""
        first = self.parties[0] if self.parties else None
        if first is None or first.listing.kind == ListingKind.OFFER:
            return None
        return first.listing_id

    @property
    def covered_by(self) -> Proposal | None:
        return self.cover.covered_by if self.cover is not None else None


class ProposalCover(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """A pending proposal set aside (status ``covered``) because an overlapping one was
    approved; the row goes when the proposal returns to the queue."""

    __tablename__ = "proposal_covers"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    covered_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )

    proposal: Mapped[Proposal] = relationship(foreign_keys=[proposal_id], back_populates="cover")
    covered_by: Mapped[Proposal] = relationship(foreign_keys=[covered_by_id])

    def __repr__(self) -> str:
        return f"<ProposalCover {self.proposal_id} by {self.covered_by_id}>"


class IntroductionRequest(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """A member's "I'm interested" in another organisation's listing: the proposal it created,
    who asked and why. One per listing and requesting organisation."""

    __tablename__ = "introduction_requests"
    __table_args__ = (sa.UniqueConstraint("listing_id", "organisation_id"),)

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    # The listing asked about; indexed by the unique constraint.
    listing_id: Mapped[int] = mapped_column(sa.ForeignKey("listings.id", ondelete="CASCADE"))
    # The organisation that asks.
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    message: Mapped[str | None] = mapped_column(sa.Text)

    proposal: Mapped[Proposal] = relationship(back_populates="request")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    requested_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<IntroductionRequest {self.proposal_id} listing={self.listing_id}>"


class ProposalParty(TimestampMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "proposal_parties"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "listing_id"),
        # By listing, with the proposal's id: an incremental run finds the proposals of its
        # neighbourhood's listings from the index alone (engine._around).
        sa.Index("ix_proposal_parties_listing_id_proposal_id", "listing_id", "proposal_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique constraint on (proposal_id, listing_id).
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    listing_id: Mapped[int] = mapped_column(sa.ForeignKey("listings.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    proposal: Mapped[Proposal] = relationship(back_populates="parties")
    # Inner joins (both columns are NOT NULL): SQLite plans a LEFT JOIN to the nested
    # listings-organisations join by scanning every listing.
    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    listing: Mapped[Listing] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<ProposalParty {self.proposal_id} listing={self.listing_id} {self.role}>"


class ResponseDecision(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ProposalResponse(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """One party's answer to an introduction."""

    __tablename__ = "proposal_responses"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    decision: Mapped[ResponseDecision] = mapped_column(str_enum(ResponseDecision))
    message: Mapped[str | None] = mapped_column(sa.Text)
    # The party agrees that, once everyone has accepted, the partnership (the organisations'
    # names and the themes, never contacts) may be shown on the home page. Off unless ticked.
    is_shown_publicly: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    responded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    proposal: Mapped[Proposal] = relationship(back_populates="responses")
    organisation: Mapped[Organisation] = relationship()
    responded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ProposalResponse {self.proposal_id} org={self.organisation_id} {self.decision}>"


class OutcomeKind(enum.StrEnum):
    FIRST_MEETING = "first_meeting"
    AGREEMENT_SIGNED = "agreement_signed"
    PROJECT_LAUNCHED = "project_launched"
    FUNDING_OBTAINED = "funding_obtained"
    NO_FOLLOW_UP = "no_follow_up"

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS[self])


OUTCOME_LABELS = {
    OutcomeKind.FIRST_MEETING: _l("First meeting held"),
    OutcomeKind.AGREEMENT_SIGNED: _l("Agreement signed"),
    OutcomeKind.PROJECT_LAUNCHED: _l("Joint project launched"),
    OutcomeKind.FUNDING_OBTAINED: _l("Funding obtained"),
    OutcomeKind.NO_FOLLOW_UP: _l("No follow-up"),
}


class Outcome(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """What came of an agreed proposal, recorded by a party as it happens."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL")
    )
    kind: Mapped[OutcomeKind] = mapped_column(str_enum(OutcomeKind))
    happened_on: Mapped[date] = mapped_column(sa.Date)
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    proposal: Mapped[Proposal] = relationship(back_populates="outcomes")
    organisation: Mapped[Organisation | None] = relationship()

    def __repr__(self) -> str:
        return f"<Outcome {self.proposal_id} {self.kind.value}>"
