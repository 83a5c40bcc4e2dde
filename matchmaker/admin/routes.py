from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from matchmaker.accounts.forms import RoleForm
from matchmaker.accounts.models import Role, User
from matchmaker.accounts.services import normalise_email, set_role
from matchmaker.core.auth import acting_user, require_role
from matchmaker.core.errors import DomainError
from matchmaker.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@require_role(Role.ADMIN)
def list_users() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()
    statement = sa.select(User).order_by(User.email)
    if query:
        statement = statement.where(User.email.contains(normalise_email(query), autoescape=True))
    page = db.paginate(statement, per_page=50, error_out=False)
    forms = {user.id: RoleForm(prefix=f"u{user.id}", role=user.role.value) for user in page.items}
    return render_template("admin/users.html", page=page, forms=forms, query=query)


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
