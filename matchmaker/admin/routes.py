from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from matchmaker.accounts.forms import RoleForm
from matchmaker.accounts.models import Role, User
from matchmaker.accounts.services import normalise_email, set_role
from matchmaker.core import jobs, outbox
from matchmaker.core.arguments import text_arg
from matchmaker.core.auth import acting_user, require_role
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import show_domain_error
from matchmaker.core.i18n import gettext as _
from matchmaker.core.models import Job, OutboxMessage
from matchmaker.core.paging import Key, page_of, paging_args
from matchmaker.extensions import db
from matchmaker.listings import services as listing_services
from matchmaker.listings.forms import EditThemeForm, ThemeForm
from matchmaker.listings.models import Theme
from matchmaker.organisations.forms import ConfirmForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Accounts by e-mail address (unique), by which the list's pages follow one another.
USERS_ORDER = (Key(User.email),)
USERS_PAGE_SIZE = 50
# Failed jobs, newest first.
JOBS_ORDER = (Key(Job.id, descending=True),)
JOBS_PAGE_SIZE = 50


@bp.get("/users")
@require_role(Role.ADMIN)
def list_users() -> ResponseReturnValue:
    query = text_arg("q")
    statement = sa.select(User)
    if query:
        statement = statement.where(User.email.contains(normalise_email(query), autoescape=True))
    page = page_of(statement, per_page=USERS_PAGE_SIZE, keys=USERS_ORDER, count=False)
    forms = {user.id: RoleForm(prefix=f"u{user.id}", role=user.role.value) for user in page.items}
    return render_template(
        "admin/users.html", page=page, forms=forms, query=query, args=paging_args()
    )


@bp.post("/users/<int:user_id>/role")
@require_role(Role.ADMIN)
def change_role(user_id: int) -> ResponseReturnValue:
    user = db.session.get(User, user_id) or abort(404)
    form = RoleForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        abort(400, description=_("Choose one of the listed roles."))
    try:
        set_role(actor=acting_user(), user=user, role=Role(form.role.data))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.list_users"))
    db.session.commit()
    flash(_("%(email)s is now %(role)s.", email=user.email, role=user.role.value), "success")
    return redirect(url_for("admin.list_users"))


# Themes --------------------------------------------------------------------------------------


def _themes_page(
    new_form: ThemeForm | None = None, failed: tuple[int, EditThemeForm] | None = None
) -> str:
    themes = listing_services.all_themes()
    edit_forms = {
        theme.id: EditThemeForm(prefix=f"t{theme.id}", obj=theme, formdata=None) for theme in themes
    }
    if failed is not None:
        edit_forms[failed[0]] = failed[1]
    return render_template(
        "admin/themes.html",
        themes=themes,
        new_form=new_form or ThemeForm(prefix="new", formdata=None),
        edit_forms=edit_forms,
        confirm_form=ConfirmForm(),
    )


@bp.get("/themes")
@require_role(Role.ADMIN)
def list_themes() -> ResponseReturnValue:
    return _themes_page()


@bp.post("/themes")
@require_role(Role.ADMIN)
def create_theme() -> ResponseReturnValue:
    form = ThemeForm(prefix="new")
    if form.validate_on_submit():
        try:
            listing_services.create_theme(
                actor=acting_user(),
                slug=form.slug.data,
                name=form.name.data,
                description=form.description.data or "",
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Theme added."), "success")
            return redirect(url_for("admin.list_themes"))
    return _themes_page(new_form=form), 422


@bp.post("/themes/<int:theme_id>")
@require_role(Role.ADMIN)
def update_theme(theme_id: int) -> ResponseReturnValue:
    theme = db.session.get(Theme, theme_id) or abort(404)
    form = EditThemeForm(prefix=f"t{theme.id}")
    if not form.validate_on_submit():
        return _themes_page(failed=(theme.id, form)), 422
    listing_services.update_theme(
        actor=acting_user(),
        theme=theme,
        name=form.name.data,
        description=form.description.data or "",
    )
    db.session.commit()
    flash(_("Theme saved."), "success")
    return redirect(url_for("admin.list_themes"))


@bp.post("/themes/<int:theme_id>/<any(retire, restore):action>")
@require_role(Role.ADMIN)
def retire_theme(theme_id: int, action: str) -> ResponseReturnValue:
    theme = db.session.get(Theme, theme_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        listing_services.set_theme_retired(
            actor=acting_user(), theme=theme, retired=action == "retire"
        )
        db.session.commit()
        flash(
            _(
                "%(name)s is retired: it stays on old listings but cannot be chosen.",
                name=theme.name,
            )
            if action == "retire"
            else _("%(name)s can be chosen again.", name=theme.name),
            "success",
        )
    return redirect(url_for("admin.list_themes"))


# Mail ----------------------------------------------------------------------------------------


@bp.get("/mail")
@require_role(Role.ADMIN)
def list_mail() -> ResponseReturnValue:
    return render_template(
        "admin/mail.html",
        messages=outbox.undelivered_messages(),
        max_attempts=outbox.MAX_ATTEMPTS,
        confirm_form=ConfirmForm(),
    )


@bp.post("/mail/<int:message_id>/retry")
@require_role(Role.ADMIN)
def retry_mail(message_id: int) -> ResponseReturnValue:
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        outbox.retry_message(actor=acting_user(), message=message)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.list_mail"))
    db.session.commit()
    flash(_("The message will be sent again now."), "success")
    return redirect(url_for("admin.list_mail"))


# Failed jobs ---------------------------------------------------------------------------------


@bp.get("/jobs")
@require_role(Role.ADMIN)
def list_failed_jobs() -> ResponseReturnValue:
    page = page_of(jobs.failed_jobs(), per_page=JOBS_PAGE_SIZE, keys=JOBS_ORDER, count=False)
    return render_template(
        "admin/jobs.html",
        page=page,
        kind_of=jobs.kind_of,
        max_attempts=jobs.MAX_ATTEMPTS,
        confirm_form=ConfirmForm(),
        args=paging_args(),
    )


@bp.post("/jobs/<int:job_id>/retry")
@require_role(Role.ADMIN)
def retry_job(job_id: int) -> ResponseReturnValue:
    job = db.session.get(Job, job_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        jobs.retry_job(actor=acting_user(), job=job)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.list_failed_jobs"))
    db.session.commit()
    flash(_("The job will be tried again now."), "success")
    return redirect(url_for("admin.list_failed_jobs"))
