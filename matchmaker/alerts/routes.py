from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matchmaker.alerts import permissions, services
from matchmaker.alerts.forms import SavedSearchNameForm
from matchmaker.alerts.models import SavedSearch
from matchmaker.core.auth import acting_user, require_confirmed
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import form_status, show_domain_error
from matchmaker.core.i18n import gettext as _
from matchmaker.core.security import configured_limit, current_user_key
from matchmaker.extensions import db, limiter
from matchmaker.listings.forms import listing_filter_form
from matchmaker.listings.search import BROWSE_KINDS
from matchmaker.organisations.forms import ConfirmForm

bp = Blueprint("alerts", __name__)


def _load(search_id: int) -> SavedSearch:
    search = db.session.get(SavedSearch, search_id)
    # Someone else's saved search does not exist, as far as this user can tell.
    if search is None or not permissions.can_manage_search(current_user, search):
        abort(404)
    return search


@bp.route("/saved-searches/new/<any(needs, offers, challenges):kind_path>", methods=["GET", "POST"])
@require_confirmed
@limiter.limit(
    lambda: configured_limit("RATELIMIT_SAVE_SEARCH"), key_func=current_user_key, methods=["POST"]
)
def save_search(kind_path: str) -> ResponseReturnValue:
    """Save the search of the page's query arguments (the search page's own form posts here)."""
    kind = BROWSE_KINDS[kind_path]
    search_form = listing_filter_form(request.args, kind)
    if not search_form.validate():
        abort(400, description=_("This search cannot be saved: go back and check its filters."))
    filters = search_form.filters(kind)
    form = SavedSearchNameForm()
    if not form.is_submitted():
        form.name.data = services.suggested_name(filters)
    if form.validate_on_submit():
        try:
            saved = services.save_search(user=acting_user(), name=form.name.data, filters=filters)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "Your search \u201c%(name)s\u201d is saved: we will tell you of each new "
                    "listing that matches it.",
                    name=saved.name,
                ),
                "success",
            )
            return redirect(services.search_url(saved))
    return render_template(
        "alerts/new.html",
        form=form,
        kind=kind,
        kind_path=kind_path,
        criteria=services.describe(filters),
        args=request.args.to_dict(),
    ), form_status(form)


@bp.route("/saved-searches/<int:search_id>/rename", methods=["GET", "POST"])
def rename_search(search_id: int) -> ResponseReturnValue:
    search = _load(search_id)
    form = SavedSearchNameForm(obj=search)
    if form.validate_on_submit():
        try:
            services.rename_search(search=search, name=form.name.data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The search is renamed."), "success")
            return redirect(url_for("accounts.account", _anchor="saved-searches"))
    return render_template(
        "alerts/rename.html", form=form, search=search, criteria=services.describe(search)
    ), form_status(form)


@bp.post("/saved-searches/<int:search_id>/<any(pause, resume, delete):action>")
def change_search(search_id: int, action: str) -> ResponseReturnValue:
    search = _load(search_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if action == "delete":
        services.delete_search(search=search)
        message = _("The search \u201c%(name)s\u201d is deleted.", name=search.name)
    else:
        services.set_paused(search=search, paused=action == "pause")
        message = (
            _("Alerts for \u201c%(name)s\u201d are paused.", name=search.name)
            if action == "pause"
            else _("Alerts for \u201c%(name)s\u201d are on again.", name=search.name)
        )
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("accounts.account", _anchor="saved-searches"))
