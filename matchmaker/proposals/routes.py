from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from matchmaker.accounts.models import Role
from matchmaker.core.auth import acting_user, require_role
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import show_domain_error
from matchmaker.extensions import db
from matchmaker.matching import settings as matching_settings
from matchmaker.matching.engine import MatcherBusy, plan, run_full
from matchmaker.matching.models import MatcherRun
from matchmaker.matching.snapshot import full_snapshot
from matchmaker.matching.templates import TEMPLATES
from matchmaker.proposals.forms import MatchingSettingsForm
from matchmaker.proposals.models import Proposal, ProposalStatus

bp = Blueprint("proposals", __name__, url_prefix="/coordination")
COORDINATORS = (Role.COORDINATOR, Role.ADMIN)


@bp.get("/proposals")
@require_role(*COORDINATORS)
def list_proposals() -> ResponseReturnValue:
    status = request.args.get("status", ProposalStatus.PENDING_REVIEW.value)
    if status not in ProposalStatus._value2member_map_:
        abort(400, description=_("Unknown status."))
    statement = (
        sa.select(Proposal)
        .where(Proposal.status == ProposalStatus(status))
        .order_by(Proposal.score.desc(), Proposal.id)
    )
    page = db.paginate(statement, per_page=25, error_out=False)
    return render_template(
        "proposals/list.html",
        page=page,
        status=status,
        statuses=list(ProposalStatus),
        templates=TEMPLATES,
    )


@bp.get("/proposals/<int:proposal_id>")
@require_role(*COORDINATORS)
def show_proposal(proposal_id: int) -> ResponseReturnValue:
    proposal = db.session.get(Proposal, proposal_id) or abort(404)
    return render_template(
        "proposals/show.html", proposal=proposal, template=TEMPLATES.get(proposal.template)
    )


@bp.route("/matching", methods=["GET", "POST"])
@require_role(*COORDINATORS)
def matching_page() -> ResponseReturnValue:
    current = matching_settings.load_settings()
    form = MatchingSettingsForm.build(data=current.as_dict())
    preview = None
    status = 200
    if form.validate_on_submit():
        try:
            chosen = matching_settings.validate(form.values())
        except DomainError as error:
            show_domain_error(form, error)
            status = 422
        else:
            if "save" not in request.form:
                outcome = plan(full_snapshot(), chosen)
                db.session.rollback()
                preview = {
                    "added": len(outcome.create) + len(outcome.revive),
                    "dropped": len(outcome.withdraw),
                    "rescored": len(outcome.rescore),
                }
            else:
                changes = matching_settings.save_settings(settings=chosen, actor=acting_user())
                try:
                    run = run_full(settings=chosen, wait=True)
                except MatcherBusy:  # pragma: no cover - wait=True does not raise
                    abort(409)
                db.session.commit()
                flash(
                    _(
                        "Settings saved (%(n)d changed). The matcher added %(added)d proposals "
                        "and withdrew %(dropped)d.",
                        n=len(changes),
                        added=run.proposals_created,
                        dropped=run.proposals_withdrawn,
                    ),
                    "success",
                )
                return redirect(url_for("proposals.matching_page"))
    elif form.is_submitted():
        status = 422
    runs = db.session.scalars(sa.select(MatcherRun).order_by(MatcherRun.id.desc()).limit(10))
    return render_template(
        "proposals/matching.html",
        form=form,
        preview=preview,
        runs=list(runs),
        templates=TEMPLATES,
    ), status
