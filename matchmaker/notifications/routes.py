from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectField

from matchmaker.accounts.models import EmailPreference
from matchmaker.core.auth import acting_user
from matchmaker.core.caching import personal_entry, personal_part
from matchmaker.core.forms import Form, form_status
from matchmaker.core.i18n import gettext as _
from matchmaker.core.i18n import ngettext
from matchmaker.core.lent_user import reading_user
from matchmaker.extensions import db
from matchmaker.notifications import services
from matchmaker.notifications.models import Notification
from matchmaker.organisations.forms import ConfirmForm

bp = Blueprint("notifications", __name__)


@personal_part("unread-badge")
def unread_badge() -> Markup:
    """The menu's count of the reader's unread notifications: the number for the eye, the words
    for a screen reader (aria-label is not allowed on a span); nothing when there are none."""
    user = reading_user()
    if not user.is_authenticated:
        return Markup("")
    unread = personal_entry("unread-count", user.id, lambda: services.unread_count(user))
    if not unread:
        return Markup("")
    return Markup(
        ' <span class="count" aria-hidden="true">{}</span><span class="visually-hidden">{}</span>'
    ).format(unread, ngettext("%(num)d unread", "%(num)d unread", unread))


@bp.app_context_processor
def _notifications_menu() -> dict[str, object]:
    return {"unread_badge": unread_badge}


PREFERENCE_LABELS = {
    EmailPreference.IMMEDIATE: _l("Email me at once"),
    EmailPreference.DAILY: _l("One email a day (digest)"),
    EmailPreference.NONE: _l("No email; I check the site"),
}


class PreferenceForm(Form):
    email_preference = SelectField(_l("Email"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.email_preference.choices = {
            p.value: str(label) for p, label in PREFERENCE_LABELS.items()
        }


@bp.get("/notifications")
def index() -> ResponseReturnValue:
    notifications = db.session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == current_user.id, services.still_relevant())
        .order_by(Notification.id.desc())
        .limit(100)
    )
    return render_template(
        "notifications/index.html",
        notifications=list(notifications),
        confirm_form=ConfirmForm(),
        preference_form=PreferenceForm(email_preference=current_user.email_preference.value),
    )


@bp.post("/notifications/read")
@bp.post("/notifications/<int:notification_id>/read")
def mark_read(notification_id: int | None = None) -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        services.mark_read(acting_user(), notification_id)
        db.session.commit()
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/preferences")
def save_preferences() -> ResponseReturnValue:
    form = PreferenceForm()
    if form.validate_on_submit():
        acting_user().email_preference = EmailPreference(form.email_preference.data)
        db.session.commit()
        flash(_("Your email preference is saved."), "success")
        return redirect(url_for("notifications.index"))
    return render_template(
        "notifications/index.html",
        notifications=[],
        confirm_form=ConfirmForm(),
        preference_form=form,
    ), form_status(form)
