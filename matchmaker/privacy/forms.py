from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import DataRequired

from matchmaker.core.forms import Form


def _password_field() -> PasswordField:
    return PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Enter your password to confirm."))],
        render_kw={"autocomplete": "current-password"},
    )


class EraseAccountForm(Form):
    password = _password_field()


class CloseOrganisationForm(Form):
    password = _password_field()
