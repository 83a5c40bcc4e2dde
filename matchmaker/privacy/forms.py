from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired


def _password_field() -> PasswordField:
    return PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Enter your password to confirm."))],
        render_kw={"autocomplete": "current-password"},
    )


class EraseAccountForm(FlaskForm):
    password = _password_field()


class CloseOrganisationForm(FlaskForm):
    password = _password_field()
