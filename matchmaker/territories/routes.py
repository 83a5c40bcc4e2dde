from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from matchmaker.accounts.models import Role, User
from matchmaker.accounts.services import find_user_by_email
from matchmaker.core.auth import acting_user, public, require_role
from matchmaker.core.caching import for_visitors
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import show_domain_error
from matchmaker.core.i18n import gettext as _
from matchmaker.core.i18n import set_territory_languages
from matchmaker.extensions import db
from matchmaker.organisations.forms import ConfirmForm
from matchmaker.territories import services
from matchmaker.territories.forms import AppointForm, NewTerritoryForm, TerritoryForm
from matchmaker.territories.models import Territory

bp = Blueprint("territories", __name__)
# Pages of a territory, and the mail of its members, speak its default language (core/i18n).
bp.record_once(
    lambda state: set_territory_languages(
        state.app, services.language_for_request, services.territory_language_of
    )
)


@bp.get("/t/<slug>")
@public
@for_visitors
def show(slug: str) -> ResponseReturnValue:
    territory = services.territory_by_slug(slug) or abort(404)
    return render_template(
        "territories/show.html", territory=territory, page=services.territory_page(territory)
    )


# Administration ---------------------------------------------------------------------------------


@bp.get("/admin/territories")
@require_role(Role.ADMIN)
def list_territories() -> ResponseReturnValue:
    return _list_page(NewTerritoryForm(formdata=None, language="en"))


def _list_page(form: NewTerritoryForm) -> str:
    territories = list(db.session.scalars(sa.select(Territory).order_by(Territory.name)))
    return render_template("territories/admin_list.html", territories=territories, form=form)


def _places(form: TerritoryForm) -> tuple[list[str], list[int]] | None:
    try:
        return (
            services.parse_subdivisions(form.subdivisions.data or ""),
            services.parse_cities(form.geonames_ids.data or ""),
        )
    except DomainError as error:
        show_domain_error(form, error)
        return None


@bp.post("/admin/territories")
@require_role(Role.ADMIN)
def create_territory() -> ResponseReturnValue:
    form = NewTerritoryForm()
    places = _places(form) if form.validate_on_submit() else None
    if places is not None:
        try:
            territory = services.create_territory(
                actor=acting_user(),
                slug=form.slug.data,
                name=form.name.data,
                language=form.language.data,
                subdivisions=places[0],
                geonames_ids=places[1],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Territory %(name)s created.", name=territory.name), "success")
            return redirect(url_for("territories.edit_territory", territory_id=territory.id))
    return _list_page(form), 422


def _edit_page(
    territory: Territory,
    form: TerritoryForm | None = None,
    appoint_form: AppointForm | None = None,
) -> str:
    return render_template(
        "territories/admin_edit.html",
        territory=territory,
        form=form
        or TerritoryForm(
            formdata=None,
            name=territory.name,
            language=territory.language,
            subdivisions=", ".join(territory.subdivisions),
            geonames_ids=", ".join(map(str, territory.geonames_ids)),
        ),
        appoint_form=appoint_form or AppointForm(formdata=None),
        coordinators=services.coordinators_of(territory),
        confirm_form=ConfirmForm(),
    )


@bp.route("/admin/territories/<int:territory_id>", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def edit_territory(territory_id: int) -> ResponseReturnValue:
    territory = db.session.get(Territory, territory_id) or abort(404)
    form = TerritoryForm()
    if not form.is_submitted():
        return _edit_page(territory)
    places = _places(form) if form.validate_on_submit() else None
    if places is not None:
        try:
            services.update_territory(
                territory=territory,
                actor=acting_user(),
                name=form.name.data,
                language=form.language.data,
                subdivisions=places[0],
                geonames_ids=places[1],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Territory saved."), "success")
            return redirect(url_for("territories.edit_territory", territory_id=territory.id))
    return _edit_page(territory, form=form), 422


@bp.post("/admin/territories/<int:territory_id>/coordinators")
@require_role(Role.ADMIN)
def appoint(territory_id: int) -> ResponseReturnValue:
    territory = db.session.get(Territory, territory_id) or abort(404)
    form = AppointForm()
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        try:
            if user is None or user.is_erased:
                raise DomainError(_("No account has this email address."), "email")
            services.appoint_coordinator(territory=territory, actor=acting_user(), user=user)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(
                _("%(email)s now coordinates %(name)s.", email=user.email, name=territory.name),
                "success",
            )
            return redirect(url_for("territories.edit_territory", territory_id=territory.id))
    return _edit_page(territory, appoint_form=form), 422


@bp.post("/admin/territories/<int:territory_id>/coordinators/<int:user_id>/end")
@require_role(Role.ADMIN)
def end_appointment(territory_id: int, user_id: int) -> ResponseReturnValue:
    territory = db.session.get(Territory, territory_id) or abort(404)
    user = db.session.get(User, user_id) or abort(404)
    if not any(a.user_id == user.id for a in territory.appointments):
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.end_appointment(territory=territory, actor=acting_user(), user=user)
    db.session.commit()
    flash(
        _("%(email)s no longer coordinates %(name)s.", email=user.email, name=territory.name),
        "success",
    )
    return redirect(url_for("territories.edit_territory", territory_id=territory.id))
