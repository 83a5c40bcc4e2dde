from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Optional, Regexp

from matchmaker.core.forms import Form, MultiLine, SingleLine, length
from matchmaker.core.i18n import language_names


class TerritoryForm(Form):
    """Edit a territory (its address stays; :class:`NewTerritoryForm` chooses it)."""

    name = StringField(
        _l("Name"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Give the territory a name.")),
            length(max=120),  # territories.name
        ],
    )
    language = SelectField(_l("Default language"), validate_choice=False)
    subdivisions = TextAreaField(
        _l("Subdivisions"),
        validators=[Optional(), MultiLine(), length(max=2000)],
        description=_l("ISO 3166-2 codes separated by commas, e.g. GR-I for Attica."),
    )
    geonames_ids = TextAreaField(
        _l("Cities"),
        validators=[Optional(), MultiLine(), length(max=2000)],
        description=_l(
            "GeoNames ids separated by commas, for cities outside those subdivisions "
            "(e.g. 2644210 for Liverpool)."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_names()


class NewTerritoryForm(TerritoryForm):
    slug = StringField(
        _l("Address"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Give the territory an address.")),
            length(max=60),  # territories.slug
            Regexp(
                r"^[a-z0-9]+(-[a-z0-9]+)*$",
                message=_l("Use lower-case letters, digits and hyphens for the address."),
            ),
        ],
        description=_l("Its page is /t/<address>; it cannot change later."),
    )


class AppointForm(Form):
    email = EmailField(
        _l("Email of the coordinator"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Give the email address of an account.")),
            Email(
                message=_l("Enter a valid email address, like name@example.org."),
                check_deliverability=False,
            ),
            length(max=254),
        ],
        description=_l("A member becomes a coordinator of this territory only."),
    )
