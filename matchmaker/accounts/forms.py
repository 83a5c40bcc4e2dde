from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    ValidationError,
)
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, Length

from matchmaker.accounts.models import Role, TokenScope
from matchmaker.accounts.services import MIN_PASSWORD_LENGTH
from matchmaker.core.forms import Form, SingleLine, length
from matchmaker.core.i18n import language_names

PASSWORD_LENGTH = Length(
    min=MIN_PASSWORD_LENGTH,
    max=200,
    message=_l("Passwords must have between %(min)d and %(max)d characters."),
)


def email_field(label: str | None = None) -> EmailField:
    return EmailField(
        label or _l("Email address"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Enter your email address.")),
            Email(
                message=_l("Enter a valid email address, like name@example.org."),
                check_deliverability=False,
            ),
            length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )


def new_password_field(label: str | None = None) -> PasswordField:
    return PasswordField(
        label or _l("Password"),
        validators=[DataRequired(message=_l("Choose a password.")), PASSWORD_LENGTH],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )


def repeat_password_field(other: str) -> PasswordField:
    return PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(message=_l("Repeat the password.")),
            EqualTo(other, message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class SignupForm(Form):
    email = email_field()
    display_name = StringField(
        _l("Your name"),
        validators=[SingleLine(), DataRequired(message=_l("Enter your name.")), length(max=100)],
        description=_l("Shown to the people you work with."),
        render_kw={"autocomplete": "name"},
    )
    password = new_password_field()
    confirm_password = repeat_password_field("password")


class LoginForm(Form):
    email = email_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(Form):
    email = email_field()


class ResetPasswordForm(Form):
    password = new_password_field(_l("New password"))
    confirm_password = repeat_password_field("password")


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = new_password_field(_l("New password"))
    confirm_password = repeat_password_field("new_password")


class ChangeEmailForm(Form):
    email = email_field(_l("New email address"))
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class ResendConfirmationForm(Form):
    """A button only: resend the confirmation mail."""


class LogoutForm(Form):
    """A button only: logging out is a state change, so it is a POST with a CSRF token."""


ROLE_LABELS = {
    Role.MEMBER: _l("Member"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.ADMIN: _l("Admin"),
}


class RoleForm(Form):
    role = SelectField(_l("Role"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = {role.value: str(label) for role, label in ROLE_LABELS.items()}


class LanguageForm(Form):
    """The language switcher in the header and the setting on the account page."""

    language = SelectField(_l("Language"), validate_choice=False)
    next = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [("", str(_l("The language of your browser"))), *language_names()]

    def validate_language(self, field: SelectField) -> None:
        if field.data and field.data not in current_app.config["LANGUAGES"]:
            raise ValidationError(_l("Choose one of the languages offered."))


TOKEN_SCOPE_LABELS = {
    TokenScope.READ: _l("Read: see your organisations' listings and proposals"),
    TokenScope.WRITE: _l("Read and write: also post and change listings, answer introductions"),
}


class CreateTokenForm(Form):
    name = StringField(
        _l("Token name"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Give the token a name.")),
            # Mirrors the access_tokens.name column (String(100)).
            length(max=100),
        ],
        description=_l("Say where you use it, e.g. “our website’s listings page”."),
    )
    scope = SelectField(
        _l("What it may do"),
        default=TokenScope.READ.value,
        # AnyOf, not DataRequired: the select always has a value, and a `required` select whose
        # first option is a real choice is invalid HTML (the Nu checker refused the account page).
        validators=[
            AnyOf(
                [scope.value for scope in TokenScope], message=_l("Choose what the token may do.")
            )
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope.choices = {
            scope.value: str(label) for scope, label in TOKEN_SCOPE_LABELS.items()
        }


class RevokeTokenForm(Form):
    """A button only: revoke one token."""
