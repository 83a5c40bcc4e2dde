from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from matchmaker.alerts.forms import SavedSearchNameForm
from matchmaker.alerts.permissions import can_save_searches
from matchmaker.alerts.services import FILTER_FIELDS, suggested_name
from matchmaker.core.arguments import int_arg
from matchmaker.core.auth import acting_user, public
from matchmaker.core.caching import for_visitors
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import form_status, show_domain_error
from matchmaker.core.i18n import gettext as _
from matchmaker.core.paging import page_of, paging_args
from matchmaker.core.security import configured_limit, current_user_key
from matchmaker.core.versions import EditConflict, keep_entries, sent_version
from matchmaker.core.words import analyse
from matchmaker.extensions import db, limiter
from matchmaker.listings import permissions, search, services
from matchmaker.listings.forms import ChallengeForm, ListingForm, listing_filter_form
from matchmaker.listings.models import Listing, ListingKind, Scope, theme_icon
from matchmaker.matching.diagnosis import diagnose
from matchmaker.notifications.services import mark_read_about
from matchmaker.organisations.forms import ConfirmForm
from matchmaker.organisations.models import Organisation, OrganisationKind
from matchmaker.organisations.permissions import can_view_organisation
from matchmaker.proposals.permissions import can_request_introduction
from matchmaker.proposals.status import listing_proposals

bp = Blueprint("listings", __name__)
# Tables that hold a theme's slug rather than the theme (the home page's counts) find its icon.
bp.add_app_template_global(theme_icon, "theme_icon")


def _page_size() -> int:
    return int(current_app.config["PAGE_SIZE"])


def _load(listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None or not permissions.can_view_listing(current_user, listing):
        abort(404)
    return listing


def _form_class(kind: ListingKind) -> type[ListingForm]:
    return ChallengeForm if kind == ListingKind.CHALLENGE else ListingForm


def _form_values(form: ListingForm) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": form.title.data or "",
        "description": form.description.data or "",
        "themes": form.themes.data or [],
        "scope": Scope(form.scope.data),
        "language": form.language.data,
    }
    if isinstance(form, ChallengeForm):
        values["deadline"] = form.deadline.data
        values["sought_kinds"] = [OrganisationKind(k) for k in form.sought_kinds.data or []]
    else:
        values["expires_on"] = form.expires_on.data
    return values


@bp.get("/<any(needs, offers, challenges):kind_path>")
@public
@for_visitors
def browse(kind_path: str) -> ResponseReturnValue:
    kind = search.BROWSE_KINDS[kind_path]
    form = listing_filter_form(request.args, kind)
    if not form.validate():
        return render_template(
            "listings/browse.html", form=form, kind=kind, page=None, kind_path=kind_path, args={}
        ), 400
    filters = form.filters(kind)
    page = page_of(
        search.browse_statement(filters), per_page=_page_size(), keys=search.sort_keys(filters)
    )
    args = paging_args()
    save_form = None
    if can_save_searches(current_user):
        save_form = SavedSearchNameForm(formdata=None, data={"name": suggested_name(filters)})
    return render_template(
        "listings/browse.html",
        form=form,
        kind=kind,
        page=page,
        kind_path=kind_path,
        args=args,
        save_form=save_form,
        save_args={key: value for key, value in args.items() if key in FILTER_FIELDS},
    )


@bp.get("/listings/<int:listing_id>")
@public
@for_visitors
def show(listing_id: int) -> ResponseReturnValue:
    listing = _load(listing_id)
    if current_user.is_authenticated and mark_read_about(acting_user(), url=request.path):
        db.session.commit()  # a saved search's alert about this listing is read now
    can_edit = permissions.can_edit_listing(current_user, listing)
    matching = diagnosis = suggestions = None
    if can_edit:
        matching = listing_proposals(listing)
        if not matching.total:
            diagnosis = diagnose(listing)
            suggestions = search.listings_by_ids(diagnosis.suggestions)
    return render_template(
        "listings/show.html",
        listing=listing,
        can_edit=can_edit,
        can_request=can_request_introduction(current_user, listing),
        matching=matching,
        diagnosis=diagnosis,
        suggestions=suggestions,
        status_form=ConfirmForm() if can_edit else None,
        actions=services.available_actions(listing),
    )


@bp.route(
    "/organisations/<int:organisation_id>/listings/new/<any(need, offer, challenge):kind>",
    methods=["GET", "POST"],
)
def create(organisation_id: int, kind: str) -> ResponseReturnValue:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not can_view_organisation(current_user, organisation):
        abort(404)
    listing_kind = ListingKind(kind)
    allowed = (
        permissions.can_post_challenges
        if listing_kind == ListingKind.CHALLENGE
        else permissions.can_post_listings
    )
    if not allowed(current_user, organisation):
        abort(403)
    # Written, most likely, in the language the organisation writes in.
    form = _form_class(listing_kind)(
        themes=services.all_themes(include_retired=False), language=organisation.language
    )
    if form.validate_on_submit():
        key = services.usable_submission_key(form.submission_key.data)
        try:
            listing = services.create_listing(
                organisation=organisation,
                actor=acting_user(),
                kind=listing_kind,
                submission_key=key,
                **_form_values(form),
            )
            db.session.commit()
        except DomainError as error:
            show_domain_error(form, error)
        except IntegrityError:
            # The same form, sent twice at once: the other request created the listing.
            db.session.rollback()
            earlier = services.submitted_listing(organisation=organisation, submission_key=key)
            if earlier is None:
                raise
            return _published(earlier)
        else:
            return _published(listing)
    return render_template(
        "listings/form.html",
        form=form,
        organisation=organisation,
        kind=listing_kind,
        listing=None,
        similar=_similar_for(form, listing_kind, None),
    ), form_status(form)


def _published(listing: Listing) -> ResponseReturnValue:
    flash(_("Your %(kind)s is published.", kind=listing.kind.label.lower()), "success")
    return redirect(url_for("listings.show", listing_id=listing.id))


def _similar_for(form: ListingForm, kind: ListingKind, exclude_id: int | None) -> list[Listing]:
    if not form.is_submitted():
        return []
    text = f"{form.title.data or ''} {form.description.data or ''}"
    return search.similar_listings(
        text, language=form.language.data, kind=kind, exclude_id=exclude_id
    )


@bp.route("/listings/<int:listing_id>/edit", methods=["GET", "POST"])
def edit(listing_id: int) -> ResponseReturnValue:
    listing = _load(listing_id)
    if not permissions.can_edit_listing(current_user, listing):
        abort(403)
    held = [t.slug for t in listing.themes]
    themes = [t for t in services.all_themes() if not t.is_retired or t.slug in held]
    form_class = _form_class(listing.kind)
    if request.method == "GET":
        form = form_class(obj=listing, themes=themes)
        form.themes.data = held
        form.scope.data = listing.scope.value
        form.language.data = listing.language
        if isinstance(form, ChallengeForm):
            form.sought_kinds.data = [k.value for k in listing.sought_kinds]
    else:
        form = form_class(themes=themes)
    status = None
    if form.validate_on_submit():
        try:
            services.update_listing(
                listing=listing,
                actor=acting_user(),
                expected_version=sent_version(form.version),
                **_form_values(form),
            )
        except EditConflict as conflict:
            # Someone saved first: their listing stays as they saved it, and this member's
            # entries come back with the version just read, so saving again is a decision
            # taken with the saved listing in view.
            db.session.rollback()
            listing = _load(listing_id)
            keep_entries(form, conflict, listing)
            status = 409
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("listings.show", listing_id=listing.id))
    return render_template(
        "listings/form.html",
        form=form,
        organisation=listing.organisation,
        kind=listing.kind,
        listing=listing,
        conflict=status == 409,
        similar=_similar_for(form, listing.kind, listing.id),
    ), status or form_status(form)


@bp.post("/listings/<int:listing_id>/<any(pause, reopen, close):action>")
def change_status(listing_id: int, action: str) -> ResponseReturnValue:
    listing = _load(listing_id)
    if not permissions.can_edit_listing(current_user, listing):
        abort(403)
    if ConfirmForm().validate_on_submit():
        try:
            services.change_status(listing=listing, actor=acting_user(), action=action)
        except DomainError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                _("The listing is now %(status)s.", status=listing.status.label.lower()), "success"
            )
    return redirect(url_for("listings.show", listing_id=listing.id))


@bp.get("/listings/similar")
@limiter.limit(lambda: configured_limit("RATELIMIT_SIMILAR"), key_func=current_user_key)
def similar() -> ResponseReturnValue:
    """Open listings like the one being written (an HTML fragment for the form's script)."""
    if not permissions.can_write_listings(current_user):
        abort(403)
    kind_value = request.args.get("kind", "")
    kind = ListingKind(kind_value) if kind_value in ListingKind._value2member_map_ else None
    exclude = int_arg("exclude")
    text = request.args.get("q", "")[:2000]
    language = request.args.get("language")
    return render_template(
        "listings/_similar.html",
        similar=search.similar_listings(text, language=language, kind=kind, exclude_id=exclude),
        searched=bool(analyse(text, language)),
    )
