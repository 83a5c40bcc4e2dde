"""The coordinators' review queue, with a coordinator's token. Decisions carry the version of
the proposal as it was read: a stale one (someone decided first) answers 409, as the pages do."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy.orm.exc import StaleDataError

from matchmaker.api import api_blueprint
from matchmaker.api.access import Access, api_user
from matchmaker.api.members import proposal_body
from matchmaker.api.paging import keyset_page
from matchmaker.api.problems import fail
from matchmaker.api.schemas import (
    ApproveSchema,
    ProposalPageSchema,
    ProposalSchema,
    QueueArgs,
    RejectSchema,
)
from matchmaker.extensions import db
from matchmaker.proposals import services
from matchmaker.proposals.models import Proposal, RejectionReason
from matchmaker.proposals.permissions import can_review_proposal
from matchmaker.territories.services import coverage_of

bp = api_blueprint("coordination", __name__, "The review queue (a coordinator's token).")


@bp.route("/coordination/proposals", methods=["GET"], access=Access.REVIEW)
@bp.arguments(QueueArgs, location="query", as_kwargs=True)
@bp.response(200, ProposalPageSchema)
def list_queue(*, cursor: str | None = None, limit: int, **filters: Any) -> dict[str, Any]:
    """Proposals waiting for review, highest score first, with the queue page's filters."""
    statement = services.queue_statement(
        services.QueueFilters(**filters), coverage_of(api_user())
    ).order_by(None)
    page = keyset_page(
        statement,
        keys=services.QUEUE_ORDER,
        row_key=lambda proposal: (proposal.score, proposal.id),
        cursor=cursor,
        limit=limit,
    )
    user = api_user()
    page["items"] = [proposal_body(proposal, user) for proposal in page["items"]]
    return page


def _proposal(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    # Outside the coordinator's territories, a proposal is not found.
    if proposal is None or not can_review_proposal(api_user(), proposal):
        abort(404)
    return proposal


@bp.route("/coordination/proposals/<int:proposal_id>", methods=["GET"], access=Access.REVIEW)
@bp.response(200, ProposalSchema)
def get_proposal(proposal_id: int) -> dict[str, Any]:
    """Any proposal, in any status, with its version."""
    return proposal_body(_proposal(proposal_id), api_user())


def _decide(proposal_id: int, decide: Any) -> dict[str, Any]:
    proposal = _proposal(proposal_id)
    try:
        decide(proposal)
        db.session.commit()
    except services.ProposalConflict as conflict:
        db.session.rollback()
        fail(409, conflict.message)
    except StaleDataError:
        # Another coordinator's decision was committed between our read and our write.
        db.session.rollback()
        fail(409, services.conflict_message(_proposal(proposal_id)))
    return proposal_body(proposal, api_user())


@bp.route(
    "/coordination/proposals/<int:proposal_id>/approve", methods=["POST"], access=Access.DECIDE
)
@bp.arguments(ApproveSchema)
@bp.response(200, ProposalSchema)
def approve_proposal(data: dict[str, Any], proposal_id: int) -> dict[str, Any]:
    """Approve: the parties are introduced (and mailed)."""
    return _decide(
        proposal_id,
        lambda proposal: services.approve_proposal(
            proposal=proposal,
            actor=api_user(),
            note=data.get("note"),
            expected_version=data["version"],
        ),
    )


@bp.route(
    "/coordination/proposals/<int:proposal_id>/reject", methods=["POST"], access=Access.DECIDE
)
@bp.arguments(RejectSchema)
@bp.response(200, ProposalSchema)
def reject_proposal(data: dict[str, Any], proposal_id: int) -> dict[str, Any]:
    """Reject with a reason: the combination is never proposed again."""
    return _decide(
        proposal_id,
        lambda proposal: services.reject_proposal(
            proposal=proposal,
            actor=api_user(),
            reason=RejectionReason(data["reason"]),
            note=data.get("note"),
            expected_version=data["version"],
        ),
    )
