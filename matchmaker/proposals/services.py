"""Proposals: export now; review, introductions and responses come with the review queue."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from matchmaker.extensions import db
from matchmaker.proposals.models import Proposal, ProposalStatus


def export_proposals(status: ProposalStatus | None = None) -> dict[str, Any]:
    statement = sa.select(Proposal).order_by(Proposal.id)
    if status is not None:
        statement = statement.where(Proposal.status == status)
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
                    {"rule": item["rule"], "points": item["points"], "reason": item["reason"]}
                    for item in proposal.explanation
                ],
            }
            for proposal in db.session.scalars(statement)
        ]
    }
