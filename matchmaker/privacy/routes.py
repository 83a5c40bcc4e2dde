from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user

from matchmaker.core.auth import acting_user
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import form_status, show_domain_error
from matchmaker.core.i18n import gettext as _
from matchmaker.core.security import password_checks
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.organisations.models import Organisation
from matchmaker.organisations.permissions import can_close_organisation, can_view_organisation
from matchmaker.privacy import erasure
from matchmaker.privacy.export import member_data
from matchmaker.privacy.forms import CloseOrganisationForm, EraseAccountForm

bp = Blueprint("privacy", __name__)


@bp.get("/account/data.json")
def download_data() -> ResponseReturnValue:
    """The signed-in member's own data, and only theirs: there is nobody else to name."""
    document = member_data(acting_user())
    filename = f"sse-matchmaker-my-data-{utcnow().date().isoformat()}.json"
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/account/erase", methods=["GET", "POST"])
@password_checks
def erase_account() -> ResponseReturnValue:
    form = EraseAccountForm()
    if form.validate_on_submit():
        try:
            erasure.erase_account(user=acting_user(), password=form.password.data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            logout_user()
            flash(_("Your account and your personal data are erased. Goodbye."), "info")
            return redirect(url_for("core.home"))
    return render_template("privacy/erase_account.html", form=form), form_status(form)


@bp.route("/organisations/<int:organisation_id>/close", methods=["GET", "POST"])
@password_checks
def close_organisation(organisation_id: int) -> ResponseReturnValue:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not can_view_organisation(current_user, organisation):
        abort(404)
    if not can_close_organisation(current_user, organisation):
        abort(403)
    form = CloseOrganisationForm()
    if form.validate_on_submit():
        try:
            erasure.close_organisation(
                organisation=organisation, actor=acting_user(), password=form.password.data
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s is closed.", name=organisation.name), "info")
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
    return render_template(
        "privacy/close_organisation.html", form=form, organisation=organisation
    ), form_status(form)
