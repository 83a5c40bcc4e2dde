from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from matchmaker.accounts.models import Role
from matchmaker.core.arguments import parse_bounded_int
from matchmaker.core.auth import acting_user, require_role
from matchmaker.core.caching import for_audience, shared_fragment
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import form_status, show_domain_error
from matchmaker.core.i18n import gettext as _
from matchmaker.core.i18n import ngettext
from matchmaker.core.jobs import create_job
from matchmaker.core.lent_user import reading_user
from matchmaker.core.models import Job
from matchmaker.core.paging import page_of, paging_args
from matchmaker.core.security import configured_limit, current_user_key
from matchmaker.extensions import db, limiter
from matchmaker.listings.models import Listing
from matchmaker.listings.permissions import can_view_listing
from matchmaker.listings.search import theme_filter_choices
from matchmaker.matching import settings as matching_settings
from matchmaker.matching.explanations import Party, story
from matchmaker.matching.explanations import render as render_explanation
from matchmaker.matching.models import MatcherRun
from matchmaker.matching.rules import RULES
from matchmaker.matching.tasks import FULL_RUN, PREVIEW
from matchmaker.matching.templates import TEMPLATES
from matchmaker.notifications.services import mark_read_about
from matchmaker.organisations.forms import ConfirmForm
from matchmaker.organisations.models import Organisation
from matchmaker.organisations.services import countries_in_directory
from matchmaker.proposals import interest, permissions, services, status
from matchmaker.proposals.forms import (
    ApproveForm,
    IntroductionRequestForm,
    MatchingSettingsForm,
    OutcomeForm,
    QueueFilterForm,
    RejectForm,
    RespondForm,
)
from matchmaker.proposals.models import (
    OutcomeKind,
    Proposal,
    RejectionReason,
    ResponseDecision,
)
from matchmaker.territories.services import coordinators_audience, coverage_of

bp = Blueprint("proposals", __name__)
COORDINATORS = (Role.COORDINATOR, Role.ADMIN)
QUEUE_PAGE_SIZE = 25


def _load(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    # Parties do not learn of a proposal before a coordinator approves it: 404, not 403.
    if proposal is None or not permissions.can_view_proposal(current_user, proposal):
        abort(404)
    return proposal


def _template_labels() -> dict[str, str]:
    labels = {name: str(template.label) for name, template in TEMPLATES.items()}
    return labels | {interest.TEMPLATE: _("Requested by a member")}


@bp.get("/coordination/proposals")
@require_role(*COORDINATORS)
@for_audience(lambda: coordinators_audience(reading_user()))
def queue() -> ResponseReturnValue:
    coverage = coverage_of(current_user)

    def results() -> tuple[str, int]:
        form = QueueFilterForm(
            request.args,
            templates=_template_labels(),
            themes=theme_filter_choices(request.args.get("theme", "").strip()),
            countries=shared_fragment("directory-countries", countries_in_directory),
        )
        if not form.validate():
            return render_template("proposals/_queue.html", form=form, page=None, args={}), 400
        filters = services.QueueFilters(
            template=form.template.data or "",
            theme=form.theme.data or "",
            country=form.country.data or "",
            region=form.region.data or "",
            organisation_kind=form.organisation_kind.data or "",
            min_score=form.min_score.data or 0,
        )
        page = page_of(
            services.queue_statement(filters, coverage),
            per_page=QUEUE_PAGE_SIZE,
            keys=services.QUEUE_ORDER,
        )
        args = paging_args()
        html = render_template(
            "proposals/_queue.html", form=form, page=page, args=args, templates=TEMPLATES
        )
        return html, 200

    # The filters and results are the same for every coordinator of the same territories:
    # built once a generation, language, address and coverage (the form too: a stored page
    # costs no form).
    content, status = shared_fragment("review-queue-page", results, request.full_path, coverage.key)
    page = Markup(content)  # noqa: S704 (drawn by an autoescaping template)
    return render_template("proposals/queue.html", content=page), status


def _page(proposal: Proposal, **forms: object) -> str:
    respond_orgs = permissions.organisations_to_respond(current_user, proposal)
    return render_template(
        "proposals/show.html",
        proposal=proposal,
        explanation=render_explanation(proposal.template, proposal.explanation),
        story=story(
            proposal.explanation,
            [
                Party(party.organisation.name, party.listing.kind.value, party.listing.title)
                for party in proposal.parties
            ],
        ),
        template=TEMPLATES.get(proposal.template),
        can_review=permissions.can_review_proposal(current_user, proposal),
        show_contacts=permissions.can_see_contacts(current_user, proposal),
        respond_orgs=respond_orgs,
        can_record_outcome=permissions.can_record_outcome(current_user, proposal),
        history=services.history(proposal)
        if permissions.can_review_proposal(current_user, proposal)
        else [],
        approve_form=forms.get("approve_form")
        or ApproveForm(prefix="approve", version=proposal.version),
        reject_form=forms.get("reject_form")
        or RejectForm(prefix="reject", version=proposal.version),
        respond_forms=forms.get("respond_forms")
        or {o.id: RespondForm(prefix=f"r{o.id}") for o in respond_orgs},
        outcome_form=forms.get("outcome_form") or OutcomeForm(),
    )


@bp.get("/proposals/<int:proposal_id>")
def show(proposal_id: int) -> ResponseReturnValue:
    proposal = _load(proposal_id)
    if mark_read_about(acting_user(), proposal_id=proposal.id):
        db.session.commit()
    return _page(proposal)


def _decide(proposal_id: int, action: str) -> ResponseReturnValue:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not permissions.can_review_proposal(current_user, proposal):
        abort(404)
    form = ApproveForm(prefix="approve") if action == "approve" else RejectForm(prefix="reject")
    key = "approve_form" if action == "approve" else "reject_form"  # _page's name for it
    if not form.validate_on_submit():
        return _page(proposal, **{key: form}), 422
    # Not a usable number (left out, tampered with): decided without the check, as before. Read
    # with the bounded parser: int() fails on "²" (a digit to isdigit) and past 4,300 digits.
    version = parse_bounded_int(form.version.data)
    covered: list[Proposal] = []
    try:
        if action == "approve":
            covered = services.approve_proposal(
                proposal=proposal,
                actor=acting_user(),
                note=form.note.data,
                expected_version=version,
            )
        else:
            services.reject_proposal(
                proposal=proposal,
                actor=acting_user(),
                reason=RejectionReason(form.reason.data),
                note=form.note.data,
                expected_version=version,
            )
        db.session.commit()
    except (services.ProposalBusy, OperationalError) as error:
        # A full matcher run holds it: said on the form, with what was entered, to send again.
        busy = services.busy(error)
        if busy is None:
            raise
        db.session.rollback()
        show_domain_error(form, busy)
        return _page(proposal, **{key: form}), 409
    except services.ProposalRescored as rescored:
        # The matcher scored it again meanwhile (a full run that held it, say): the page shows
        # it as it is now, with what was entered kept and its version now, so that reading it
        # and sending again decides it.
        db.session.rollback()
        proposal = db.session.get(Proposal, proposal_id) or abort(404)
        form.version.data = str(proposal.version)
        show_domain_error(form, rescored)
        return _page(proposal, **{key: form}), 409
    except services.ProposalConflict as conflict:
        db.session.rollback()
        flash(conflict.message, "error")
        return redirect(url_for("proposals.show", proposal_id=proposal_id)), 303
    except StaleDataError:
        # Another coordinator's decision was committed between our read and our write.
        db.session.rollback()
        proposal = db.session.get(Proposal, proposal_id) or abort(404)
        flash(services.conflict_message(proposal), "error")
        return redirect(url_for("proposals.show", proposal_id=proposal_id)), 303
    if action == "approve":
        flash(_("Approved: the parties are introduced."), "success")
        if covered:
            flash(
                ngettext(
                    "%(num)d overlapping proposal left the queue (covered by this one).",
                    "%(num)d overlapping proposals left the queue (covered by this one).",
                    len(covered),
                ),
                "info",
            )
    else:
        flash(_("Rejected: this combination will not be proposed again."), "success")
    return redirect(url_for("proposals.queue"))


@bp.route("/coordination/proposals/<int:proposal_id>/approve", methods=["GET", "POST"])
@require_role(*COORDINATORS)
def approve(proposal_id: int) -> ResponseReturnValue:
    if request.method == "GET":
        return _back_to_proposal(proposal_id)
    return _decide(proposal_id, "approve")


@bp.route("/coordination/proposals/<int:proposal_id>/reject", methods=["GET", "POST"])
@require_role(*COORDINATORS)
def reject(proposal_id: int) -> ResponseReturnValue:
    if request.method == "GET":
        return _back_to_proposal(proposal_id)
    return _decide(proposal_id, "reject")


def _back_to_proposal(proposal_id: int) -> ResponseReturnValue:
    """The address a decision or an answer was sent to, opened again (a reload after a form
    with errors, a bookmark): the proposal's page, not "method not allowed"."""
    return redirect(url_for("proposals.show", proposal_id=proposal_id), 303)


def _answered(
    organisation: Organisation, decision: ResponseDecision, proposal_id: int
) -> ResponseReturnValue:
    flash(
        _("You accepted on behalf of %(name)s.", name=organisation.name)
        if decision == ResponseDecision.ACCEPTED
        else _("You declined on behalf of %(name)s.", name=organisation.name),
        "success",
    )
    return redirect(url_for("proposals.show", proposal_id=proposal_id))


@bp.route(
    "/proposals/<int:proposal_id>/organisations/<int:organisation_id>"
    "/<any(accept, decline):answer>",
    methods=["GET", "POST"],
)
def answer(proposal_id: int, organisation_id: int, answer: str) -> ResponseReturnValue:
    if request.method == "GET":
        return _back_to_proposal(proposal_id)
    proposal = _load(proposal_id)
    # Read after any answer another request is recording: sent twice at once, the second
    # waits and is answered as the first was.
    try:
        services.lock_proposal(proposal)
    except services.ProposalBusy as held:
        db.session.rollback()
        return _busy_answering(proposal, organisation_id, held)
    allowed = {o.id: o for o in permissions.organisations_to_respond(current_user, proposal)}
    if organisation_id not in allowed:
        # Sent again after the answer was recorded (Back and Submit, a double click):
        # the same answer as the first time, or 403 for someone who was never asked.
        parties = {o.id: o for o in permissions.party_organisations(current_user, proposal)}
        recorded = (
            services.recorded_response(proposal=proposal, organisation=parties[organisation_id])
            if organisation_id in parties
            else None
        )
        if recorded is None:
            abort(403)
        return _answered(parties[organisation_id], recorded.decision, proposal_id)
    organisation: Organisation = allowed[organisation_id]
    form = RespondForm(prefix=f"r{organisation.id}")
    decision = ResponseDecision.ACCEPTED if answer == "accept" else ResponseDecision.DECLINED
    if form.validate_on_submit():
        try:
            services.respond(
                proposal=proposal,
                organisation=organisation,
                actor=acting_user(),
                decision=decision,
                message=form.message.data,
                show_publicly=form.show_publicly.data,
            )
            db.session.commit()
        except (services.ProposalBusy, OperationalError) as error:
            busy = services.busy(error)
            if busy is None:
                raise
            db.session.rollback()
            return _busy_answering(proposal, organisation_id, busy)
        except DomainError as error:
            show_domain_error(form, error)
        except (IntegrityError, StaleDataError):
            # The same answer sent twice at once (a double click, a retry): one of them is
            # recorded, and this one is answered as if it had been.
            db.session.rollback()
            recorded = services.recorded_response(
                proposal=db.session.get(Proposal, proposal_id), organisation=organisation
            )
            if recorded is None:
                raise
            return _answered(organisation, recorded.decision, proposal_id)
        else:
            return _answered(organisation, decision, proposal_id)
    return _page(proposal, respond_forms={organisation.id: form}), 422


def _busy_answering(
    proposal: Proposal, organisation_id: int, busy: services.ProposalBusy
) -> ResponseReturnValue:
    """The proposal's page again, the answer's form as it was sent with what ``busy`` says
    (409): nothing was saved, and the person sends it again."""
    allowed = {o.id for o in permissions.organisations_to_respond(current_user, proposal)}
    if organisation_id not in allowed:  # answered already, or never asked: the page says
        flash(busy.message, "error")
        return redirect(url_for("proposals.show", proposal_id=proposal.id), 303)
    form = RespondForm(prefix=f"r{organisation_id}")
    show_domain_error(form, busy)
    return _page(proposal, respond_forms={organisation_id: form}), 409


@bp.post("/proposals/<int:proposal_id>/outcomes")
def add_outcome(proposal_id: int) -> ResponseReturnValue:
    proposal = _load(proposal_id)
    if not permissions.can_record_outcome(current_user, proposal):
        abort(403)
    form = OutcomeForm()
    if form.validate_on_submit():
        try:
            services.record_outcome(
                proposal=proposal,
                organisation=permissions.party_organisations(current_user, proposal)[0],
                actor=acting_user(),
                kind=OutcomeKind(form.kind.data),
                happened_on=form.happened_on.data,
                note=form.note.data,
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Thank you: the outcome is recorded."), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
    return _page(proposal, outcome_form=form), 422


@bp.route("/listings/<int:listing_id>/interest", methods=["GET", "POST"])
@limiter.limit(
    lambda: configured_limit("RATELIMIT_INTRODUCTION_REQUEST"),
    key_func=current_user_key,
    methods=["POST"],
)
def request_introduction(listing_id: int) -> ResponseReturnValue:
    listing = db.session.get(Listing, listing_id)
    if listing is None or not can_view_listing(current_user, listing):
        abort(404)
    if not permissions.can_request_introduction(current_user, listing):
        abort(403)
    organisations = permissions.requesting_organisations(current_user, listing)
    mine = interest.listings_to_bring([o.id for o in organisations])
    form = IntroductionRequestForm(
        choices=[(m.id, f"{m.organisation.name}: {m.title}") for m in mine]
    )
    if mine and form.validate_on_submit():
        requesting = next(m for m in mine if m.id == form.listing.data)
        try:
            interest.request_introduction(
                listing=listing,
                requesting=requesting,
                actor=acting_user(),
                message=form.message.data or "",
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(
                _("Your request is with the coordinators: they introduce you if it fits."),
                "success",
            )
            return redirect(url_for("listings.show", listing_id=listing.id))
    return render_template(
        "proposals/request.html", form=form, listing=listing, mine=mine
    ), form_status(form)


@bp.get("/my/proposals")
def mine() -> ResponseReturnValue:
    listings = status.organisation_listings(m.organisation_id for m in current_user.memberships)
    return render_template(
        "proposals/mine.html",
        groups=services.proposals_for(current_user),
        templates=TEMPLATES,
        listings=listings,
        matching=status.proposal_counts(listing.id for listing in listings),
    )


# Matching settings ---------------------------------------------------------------------------


@bp.route("/coordination/matching", methods=["GET", "POST"])
@require_role(*COORDINATORS)
def matching_page() -> ResponseReturnValue:
    """Settings, a preview of their effect and full runs: the last two are jobs, followed on
    their own page while they run."""
    current = matching_settings.load_settings()
    form = MatchingSettingsForm.build(data=current.as_dict())
    status = 200
    may_change = permissions.can_change_matching(current_user)
    if form.is_submitted() and "save" in request.form and not may_change:
        abort(403)
    if form.validate_on_submit():
        try:
            chosen = matching_settings.validate(form.values())
        except DomainError as error:
            show_domain_error(form, error)
            status = 422
        else:
            if "save" not in request.form:
                job = create_job(
                    PREVIEW, requested_by=acting_user(), params={"settings": chosen.as_dict()}
                )
            else:
                changes = matching_settings.save_settings(settings=chosen, actor=acting_user())
                job = create_job(FULL_RUN, requested_by=acting_user())
                flash(
                    _(
                        "Settings saved (%(n)d changed). The matcher runs again with them.",
                        n=len(changes),
                    ),
                    "success",
                )
            db.session.commit()  # the job starts after this commit
            return redirect(url_for("proposals.show_job", job_id=job.id))
    elif form.is_submitted():
        status = 422
    runs = db.session.scalars(sa.select(MatcherRun).order_by(MatcherRun.id.desc()).limit(10))
    return render_template(
        "proposals/matching.html",
        form=form,
        run_form=ConfirmForm(),
        runs=list(runs),
        rules=RULES,
        templates=TEMPLATES,
        may_change=may_change,
    ), status


@bp.post("/coordination/matching/run")
@require_role(*COORDINATORS)
def start_full_run() -> ResponseReturnValue:
    if not permissions.can_change_matching(current_user):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    job = create_job(FULL_RUN, requested_by=acting_user())
    db.session.commit()  # the run starts after this commit
    return redirect(url_for("proposals.show_job", job_id=job.id))


@bp.get("/coordination/jobs/<int:job_id>")
@require_role(*COORDINATORS)
def show_job(job_id: int) -> ResponseReturnValue:
    """A full run's or a preview's progress; the page reloads itself until the job ends."""
    job = db.session.get(Job, job_id)
    if job is None or not permissions.can_follow_job(current_user, job):
        abort(404)
    return render_template("proposals/job.html", job=job, is_preview=job.kind == PREVIEW)
