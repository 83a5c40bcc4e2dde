from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matchmaker.accounts.models import Role
from matchmaker.core.auth import acting_user, public, require_confirmed, require_role
from matchmaker.core.caching import for_visitors, shared_fragment
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import form_status, show_domain_error
from matchmaker.core.i18n import gettext as _
from matchmaker.core.paging import page_of, paging_args
from matchmaker.core.security import configured_limit, current_user_key
from matchmaker.core.static_files import ONE_YEAR
from matchmaker.core.tokens import InvalidToken
from matchmaker.core.uploads import accepts_upload
from matchmaker.core.versions import EditConflict, keep_entries, sent_version
from matchmaker.extensions import db, limiter
from matchmaker.organisations import logos, permissions, services
from matchmaker.organisations.forms import (
    ConfirmForm,
    ContactPersonForm,
    DirectoryFilterForm,
    InviteMemberForm,
    LogoForm,
    NewOrganisationForm,
    OrganisationForm,
    RejectOrganisationForm,
)
from matchmaker.organisations.models import (
    ContactPerson,
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
)
from matchmaker.territories.services import coverage_of

bp = Blueprint("organisations", __name__)


def _load(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    # Organisations not yet verified are hidden from those who may not see them, as if absent.
    if organisation is None or not permissions.can_view_organisation(current_user, organisation):
        abort(404)
    return organisation


def _fields(form: OrganisationForm) -> dict[str, object]:
    return {
        "name": form.name.data,
        "kind": OrganisationKind(form.kind.data),
        "description": form.description.data,
        "language": form.language.data,
        "website": form.website.data,
        "city": form.city.data,
        "region": form.region.data,
        "country": form.country.data,
    }


@bp.get("/organisations")
@public
@for_visitors
def directory() -> ResponseReturnValue:
    form = DirectoryFilterForm(
        request.args,
        countries=shared_fragment("directory-countries", services.countries_in_directory),
    )
    if not form.validate():
        return render_template("organisations/directory.html", form=form, page=None), 400
    filters = services.DirectoryFilters(
        q=form.q.data or "",
        kind=form.kind.data or "",
        country=form.country.data or "",
        region=form.region.data or "",
    )
    page = page_of(
        services.directory_statement(filters),
        per_page=services.page_size(),
        keys=services.DIRECTORY_ORDER,
    )
    args = paging_args()
    return render_template("organisations/directory.html", form=form, page=page, args=args)


@bp.get("/organisations/<int:organisation_id>")
@public
@for_visitors
def show(organisation_id: int) -> ResponseReturnValue:
    from matchmaker.listings.search import ListingFilters, browse_statement

    organisation = _load(organisation_id)
    open_listings = db.session.scalars(
        browse_statement(ListingFilters(organisation_id=organisation.id))
    )
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        open_listings=list(open_listings),
        show_contact_details=permissions.can_see_contact_details(current_user, organisation),
        can_edit=permissions.can_edit_organisation(current_user, organisation),
        can_close=permissions.can_close_organisation(current_user, organisation),
        can_manage=permissions.can_manage_members(current_user, organisation),
        is_member=permissions.is_member(current_user, organisation),
    )


@bp.get("/my/organisations")
def mine() -> ResponseReturnValue:
    from matchmaker.listings.permissions import can_post_challenges, can_post_listings
    from matchmaker.listings.services import listings_of

    organisations = services.user_organisations(current_user)
    return render_template(
        "organisations/mine.html",
        organisations=organisations,
        listings=listings_of([o.id for o in organisations]),
        can_post_listings=can_post_listings,
        can_post_challenges=can_post_challenges,
        can_edit_organisation=permissions.can_edit_organisation,
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
@require_confirmed
def create() -> ResponseReturnValue:
    form = NewOrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = services.create_organisation(
                creator=acting_user(),
                contact={
                    "name": form.contact_name.data,
                    "position": form.contact_position.data,
                    "email": form.contact_email.data,
                    "phone": form.contact_phone.data,
                },
                **_fields(form),  # type: ignore[arg-type]
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s is registered. A coordinator will verify it soon; you will get an "
                    "email.",
                    name=organisation.name,
                ),
                "success",
            )
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=None), form_status(
        form
    )


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit(organisation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    if not permissions.can_edit_organisation(current_user, organisation):
        abort(403)
    form = OrganisationForm(obj=organisation)
    if request.method == "GET":
        form.kind.data = organisation.kind.value
        # The form shows what the owner asked for, so saving it again keeps the request.
        for key, value in (organisation.pending_changes or {}).items():
            form[key].data = value
    if form.validate_on_submit():
        try:
            waiting = services.update_organisation(
                organisation=organisation,
                actor=acting_user(),
                expected_version=sent_version(form.version),
                **_fields(form),
            )
        except EditConflict as conflict:
            # Someone saved first: what they saved stays, and this member's entries come back
            # with the version just read, so saving again is a decision taken with it in view.
            db.session.rollback()
            organisation = _load(organisation_id)
            keep_entries(form, conflict, organisation)
            return _edit_page(organisation, form=form, conflict=True), 409
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "Your changes are saved. A coordinator checks the new name, kind, website "
                    "or country before they are shown; until then the verified ones stay."
                )
                if waiting
                else _("Your changes are saved."),
                "success",
            )
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
    return _edit_page(organisation, form=form), form_status(form)


def _edit_page(
    organisation: Organisation,
    *,
    form: OrganisationForm | None = None,
    contact_form: ContactPersonForm | None = None,
    logo_form: LogoForm | None = None,
    conflict: bool = False,
) -> str:
    """The edit page with its three forms, the one that failed showing its errors (with
    ``conflict``, the organisation as saved since the form was read, beside it)."""
    return render_template(
        "organisations/form.html",
        form=form or OrganisationForm(obj=organisation, formdata=None),
        organisation=organisation,
        conflict=conflict,
        contact_form=contact_form or ContactPersonForm(formdata=None),
        logo_form=logo_form or LogoForm(formdata=None),
        confirm_form=ConfirmForm(),
    )


@bp.get("/organisations/<int:organisation_id>/logo.png")
@public
def logo(organisation_id: int) -> ResponseReturnValue:
    """The stored PNG. At its versioned address (?v=digest) a verified organisation's logo may be
    kept a year by anyone (a new logo gets a new address); otherwise it is asked for again."""
    organisation = _load(organisation_id)
    stored = logos.logo_of(organisation)
    if stored is None:
        abort(404)
    response = Response(stored.image, mimetype="image/png")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(stored.digest)
    if organisation.is_verified and request.args.get("v") == stored.digest:
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
    else:
        if organisation.is_verified:
            response.cache_control.public = True
        response.cache_control.no_cache = True
    return response.make_conditional(request)


@bp.post("/organisations/<int:organisation_id>/logo")
@accepts_upload("LOGO_MAX_REQUEST_BYTES")
@limiter.limit(lambda: configured_limit("RATELIMIT_LOGO"), key_func=current_user_key)
def upload_logo(organisation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    if not permissions.can_edit_organisation(current_user, organisation):
        abort(403)
    form = LogoForm()
    if form.validate_on_submit():
        try:
            logos.set_logo(
                organisation=organisation, actor=acting_user(), data=form.logo.data.read()
            )
        except DomainError as error:
            form.logo.errors = [*form.logo.errors, error.message]
        else:
            db.session.commit()
            flash(_("The new logo is saved."), "success")
            return redirect(url_for("organisations.edit", organisation_id=organisation.id))
    return _edit_page(organisation, logo_form=form), 422


@bp.post("/organisations/<int:organisation_id>/logo/remove")
def remove_logo(organisation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    if not permissions.can_edit_organisation(current_user, organisation):
        abort(403)
    if ConfirmForm().validate_on_submit():
        logos.remove_logo(organisation=organisation, actor=acting_user())
        db.session.commit()
        flash(_("The logo is removed; its initials stand in for it."), "success")
    return redirect(url_for("organisations.edit", organisation_id=organisation.id))


@bp.post("/organisations/<int:organisation_id>/contacts")
def add_contact(organisation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    if not permissions.can_edit_organisation(current_user, organisation):
        abort(403)
    form = ContactPersonForm()
    if form.validate_on_submit():
        services.add_contact(
            organisation=organisation,
            actor=acting_user(),
            name=form.contact_name.data,
            position=form.contact_position.data,
            email=form.contact_email.data,
            phone=form.contact_phone.data,
        )
        db.session.commit()
        flash(_("Contact person added."), "success")
        return redirect(url_for("organisations.edit", organisation_id=organisation.id))
    return _edit_page(organisation, contact_form=form), 422


@bp.post("/organisations/<int:organisation_id>/contacts/<int:contact_id>/delete")
def remove_contact(organisation_id: int, contact_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    if not permissions.can_edit_organisation(current_user, organisation):
        abort(403)
    contact = db.session.get(ContactPerson, contact_id)
    if contact is None or contact.organisation_id != organisation.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        services.remove_contact(organisation=organisation, actor=acting_user(), contact=contact)
        db.session.commit()
        flash(_("Contact person removed."), "success")
    return redirect(url_for("organisations.edit", organisation_id=organisation.id))


@bp.get("/organisations/<int:organisation_id>/members")
def members(organisation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    if not (
        permissions.is_member(current_user, organisation)
        or permissions.can_coordinate(current_user, organisation)
    ):
        abort(403)
    return _members_page(organisation, InviteMemberForm())


def _members_page(organisation: Organisation, invite_form: InviteMemberForm) -> str:
    can_manage = permissions.can_manage_members(current_user, organisation)
    return render_template(
        "organisations/members.html",
        organisation=organisation,
        invite_form=invite_form,
        confirm_form=ConfirmForm(),
        can_manage=can_manage,
        can_invite=permissions.can_invite_members(current_user, organisation),
        invitations=services.pending_invitations(organisation) if can_manage else [],
        invitation_days=current_app.config["INVITATION_MAX_AGE"] // 86400,
    )


# Rate-limit keys: invitations are counted per inviting user and per organisation, whatever
# address they come from.
def _inviting_organisation() -> str:
    return f"organisation:{(request.view_args or {}).get('organisation_id')}"


@bp.post("/organisations/<int:organisation_id>/members/invite")
@limiter.limit(lambda: configured_limit("RATELIMIT_INVITE_USER"), key_func=current_user_key)
@limiter.limit(
    lambda: configured_limit("RATELIMIT_INVITE_ORGANISATION"), key_func=_inviting_organisation
)
def invite_member(organisation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    if not permissions.can_invite_members(current_user, organisation):
        abort(403)
    form = InviteMemberForm()
    if form.validate_on_submit():
        try:
            services.invite_member(
                organisation=organisation, actor=acting_user(), email=form.email.data
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("organisations.members", organisation_id=organisation.id))
    return _members_page(organisation, form), 422


@bp.post("/organisations/<int:organisation_id>/invitations/<int:invitation_id>/revoke")
def revoke_invitation(organisation_id: int, invitation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    if not permissions.can_manage_members(current_user, organisation):
        abort(403)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            services.revoke_invitation(
                organisation=organisation, actor=acting_user(), invitation=invitation
            )
        except DomainError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Invitation to %(email)s revoked.", email=invitation.email), "info")
    return redirect(url_for("organisations.members", organisation_id=organisation.id))


@bp.post("/organisations/<int:organisation_id>/members/<int:membership_id>/remove")
def remove_member(organisation_id: int, membership_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    if not permissions.can_manage_members(current_user, organisation):
        abort(403)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            services.remove_member(
                organisation=organisation, actor=acting_user(), membership=membership
            )
        except DomainError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Member removed."), "success")
    return redirect(url_for("organisations.members", organisation_id=organisation.id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> ResponseReturnValue:
    try:
        invitation = services.invitation_for_token(token, lock=request.method == "POST")
    except InvalidToken:
        flash(_("This invitation has expired or was already used."), "error")
        return redirect(url_for("organisations.mine"))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(invitation=invitation, user=acting_user())
        except DomainError as error:
            flash(error.message, "error")
            return render_template(
                "organisations/invitation.html", invitation=invitation, form=form
            ), 403
        db.session.commit()
        flash(_("You are now a member of %(name)s.", name=invitation.organisation.name), "success")
        return redirect(url_for("organisations.show", organisation_id=invitation.organisation_id))
    return render_template("organisations/invitation.html", invitation=invitation, form=form)


# Verification (coordinators) ---------------------------------------------------------------


def _queue_page(failed: RejectOrganisationForm | None = None, failed_id: int | None = None) -> str:
    organisations = services.verification_queue(coverage_of(current_user))
    reject_forms = {
        organisation.id: (
            failed
            if organisation.id == failed_id and failed is not None
            else RejectOrganisationForm(prefix=f"o{organisation.id}", formdata=None)
        )
        for organisation in organisations
    }
    return render_template(
        "organisations/queue.html",
        organisations=organisations,
        confirm_form=ConfirmForm(),
        reject_forms=reject_forms,
    )


def _load_to_verify(organisation_id: int) -> Organisation:
    """An organisation this coordinator may verify; outside their territory it is not found."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not permissions.can_coordinate(current_user, organisation):
        abort(404)
    return organisation


@bp.get("/coordination/organisations")
@require_role(Role.COORDINATOR, Role.ADMIN)
def verification_queue() -> ResponseReturnValue:
    return _queue_page()


@bp.post("/coordination/organisations/<int:organisation_id>/verify")
@require_role(Role.COORDINATOR, Role.ADMIN)
def verify(organisation_id: int) -> ResponseReturnValue:
    organisation = _load_to_verify(organisation_id)
    if ConfirmForm().validate_on_submit():
        changes = organisation.has_pending_changes
        try:
            services.verify_organisation(organisation=organisation, actor=acting_user())
        except DomainError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                _("The changes to %(name)s are verified.", name=organisation.name)
                if changes
                else _("%(name)s is verified.", name=organisation.name),
                "success",
            )
    return redirect(url_for("organisations.verification_queue"))


@bp.post("/coordination/organisations/<int:organisation_id>/reject")
@require_role(Role.COORDINATOR, Role.ADMIN)
def reject(organisation_id: int) -> ResponseReturnValue:
    organisation = _load_to_verify(organisation_id)
    form = RejectOrganisationForm(prefix=f"o{organisation.id}")
    if not form.validate_on_submit():
        return _queue_page(failed=form, failed_id=organisation.id), 422
    changes = organisation.is_verified and organisation.has_pending_changes
    try:
        services.reject_organisation(
            organisation=organisation, actor=acting_user(), reason=form.reason.data
        )
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("organisations.verification_queue"))
    db.session.commit()
    flash(
        _(
            "The changes to %(name)s were not verified; its owners are told why.",
            name=organisation.name,
        )
        if changes
        else _("%(name)s was not verified; its owners are told why.", name=organisation.name),
        "info",
    )
    return redirect(url_for("organisations.verification_queue"))
