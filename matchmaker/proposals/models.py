from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.db import TimestampMixin, UpdatedMixin, str_enum
from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from matchmaker.organisations.models import Organisation


class ProposalStatus(enum.StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"  # parties introduced, waiting for their answers
    REJECTED = "rejected"  # by a coordinator; never proposed again
    WITHDRAWN = "withdrawn"  # by the matcher: a listing closed or expired, or settings changed
    AGREED = "agreed"  # every party accepted
    DECLINED = "declined"  # a party declined; never proposed again

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
}

# Proposals that still hold a listing's attention (count towards its cap).
LIVE_STATUSES = (ProposalStatus.PENDING_REVIEW, ProposalStatus.APPROVED, ProposalStatus.AGREED)
# Proposals whose combination of listings must never be proposed again.
SUPPRESSING_STATUSES = (ProposalStatus.REJECTED, ProposalStatus.DECLINED)


class Proposal(UpdatedMixin, db.Model):  # type: ignore[name-defined,misc]
    """A collaboration the matcher suggests, with the explanation of its score."""

    __tablename__ = "proposals"
    __table_args__ = (
        sa.CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        sa.Index("ix_proposals_status_score", "status", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[int] = mapped_column()
    # [{"rule": "shared_themes", "points": 24, "reason": "…"}]; the points add up to the score.
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
    # Optimistic locking: two coordinators deciding at once cannot both win.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    parties: Mapped[list[ProposalParty]] = relationship(
        back_populates="proposal",
        cascade="all, delete-orphan",
        order_by="ProposalParty.position",
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.template} {self.score} {self.status.value}>"

    @property
    def listing_ids(self) -> list[int]:
        return sorted(party.listing_id for party in self.parties)


class ProposalParty(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "proposal_parties"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "listing_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique constraint on (proposal_id, listing_id).
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    listing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("listings.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    proposal: Mapped[Proposal] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    listing: Mapped[Listing] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<ProposalParty {self.proposal_id} listing={self.listing_id} {self.role}>"
