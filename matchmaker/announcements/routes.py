from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matchmaker.announcements import permissions, services
from matchmaker.announcements.forms import (
    NO_ORGANISATION,
    AnnouncementFilterForm,
    AnnouncementForm,
)
from matchmaker.announcements.models import Announcement, AnnouncementKind, Audience
from matchmaker.core.auth import acting_user, public
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import form_status, show_domain_error
from matchmaker.core.i18n import gettext as _
from matchmaker.core.paging import page_of, paging_args
from matchmaker.core.security import configured_limit, current_user_key
from matchmaker.extensions import db, limiter
from matchmaker.listings.services import all_themes
from matchmaker.organisations.forms import ConfirmForm
from matchmaker.organisations.permissions import can_verify_organisations
from matchmaker.territories.services import coverage_of

bp = Blueprint("announcements", __name__)


def _load(announcement_id: int) -> Announcement:
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or not permissions.can_view_announcement(current_user, announcement):
        abort(404)
    return announcement


def _values(form: AnnouncementForm) -> dict[str, Any]:
    return {
        "kind": AnnouncementKind(form.kind.data),
        "audience": Audience(form.audience.data),
        "title": form.title.data or "",
        "body": form.body.data or "",
        "themes": form.themes.data or [],
        "ends_on": form.ends_on.data,
        "link": form.link.data or "",
        "region_only": bool(form.region_only.data),
    }


@bp.get("/announcements")
@public
def browse() -> ResponseReturnValue:
    form = AnnouncementFilterForm(request.args, themes=all_themes())
    if not form.validate():
        return render_template(
            "announcements/browse.html", form=form, page=None, args={}, can_post=False
        ), 400
    filters = services.AnnouncementFilters(
        theme=form.theme.data or "", kind=form.kind.data or "", audience=form.audience.data or ""
    )
    page = page_of(
        services.browse_statement(filters),
        per_page=int(current_app.config["PAGE_SIZE"]),
        keys=services.NEWEST_FIRST,
    )
    args = paging_args()
    return render_template(
        "announcements/browse.html",
        form=form,
        page=page,
        args=args,
        can_post=permissions.can_post_announcements(current_user),
    )


@bp.get("/announcements/<int:announcement_id>")
@public
def show(announcement_id: int) -> ResponseReturnValue:
    announcement = _load(announcement_id)
    return render_template(
        "announcements/show.html",
        announcement=announcement,
        can_edit=permissions.can_edit_announcement(current_user, announcement),
        can_withdraw=permissions.can_withdraw_announcement(current_user, announcement),
        withdraw_form=ConfirmForm(),
    )


@bp.route("/announcements/new", methods=["GET", "POST"])
@limiter.limit(
    lambda: configured_limit("RATELIMIT_ANNOUNCEMENT"),
    key_func=current_user_key,
    methods=["POST"],
    # Only what is published (and mailed) counts: a form sent back to fix a field does not.
    deduct_when=lambda response: response.status_code == 302,
)
def create() -> ResponseReturnValue:
    if not permissions.can_post_announcements(current_user):
        abort(403)
    organisations = services.postable_organisations(current_user)
    territories = services.territory_choices(current_user)
    form = AnnouncementForm(
        themes=all_themes(include_retired=False),
        organisations=organisations,
        may_post_for_no_organisation=can_verify_organisations(current_user),
        territories=territories,
        territory_required=not coverage_of(current_user).is_everything,
    )
    if form.validate_on_submit():
        chosen = form.organisation.data
        organisation = next((o for o in organisations if str(o.id) == chosen), None)
        country = form.country.data if chosen == NO_ORGANISATION and form.country else ""
        territory = next((t for t in territories if str(t.id) == form.territory.data), None)
        try:
            announcement = services.create_announcement(
                author=acting_user(),
                organisation=organisation,
                country=country or "",
                territory=territory,
                **_values(form),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Your announcement is published."), "success")
            return redirect(url_for("announcements.show", announcement_id=announcement.id))
    return render_template("announcements/form.html", form=form, announcement=None), form_status(
        form
    )


@bp.route("/announcements/<int:announcement_id>/edit", methods=["GET", "POST"])
def edit(announcement_id: int) -> ResponseReturnValue:
    announcement = _load(announcement_id)
    if not permissions.can_edit_announcement(current_user, announcement):
        abort(403)
    held = [t.slug for t in announcement.themes]
    themes = [t for t in all_themes() if not t.is_retired or t.slug in held]
    if request.method == "GET":
        form = AnnouncementForm(obj=announcement, themes=themes, organisations=None)
        form.themes.data = held
        form.kind.data = announcement.kind.value
        form.audience.data = announcement.audience.value
        form.region_only.data = bool(announcement.region)
    else:
        form = AnnouncementForm(themes=themes, organisations=None)
    if form.validate_on_submit():
        try:
            services.update_announcement(
                announcement=announcement, actor=acting_user(), **_values(form)
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("announcements.show", announcement_id=announcement.id))
    return render_template(
        "announcements/form.html", form=form, announcement=announcement
    ), form_status(form)


@bp.post("/announcements/<int:announcement_id>/withdraw")
def withdraw(announcement_id: int) -> ResponseReturnValue:
    announcement = _load(announcement_id)
    if not permissions.can_withdraw_announcement(current_user, announcement):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.withdraw_announcement(announcement=announcement, actor=acting_user())
    db.session.commit()
    flash(_("The announcement is withdrawn."), "success")
    return redirect(url_for("announcements.show", announcement_id=announcement.id))
