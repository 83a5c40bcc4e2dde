from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import EmailField, HiddenField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import URL, DataRequired, Email, Optional, ValidationError

from matchmaker.core.forms import (
    FilterChoiceField,
    Form,
    LanguageField,
    MultiLine,
    SingleLine,
    length,
)
from matchmaker.core.i18n import country_choices, is_country_code
from matchmaker.core.words import language_or_default
from matchmaker.organisations.logos import MAX_UPLOAD_BYTES
from matchmaker.organisations.models import KIND_LABELS, OrganisationKind


def kind_choices(blank: str | None = None) -> dict[str, str]:
    """Choices as a value → label mapping (the shape WTForms 3.3 prefers)."""
    choices = {"": blank} if blank is not None else {}
    choices.update({kind.value: str(KIND_LABELS[kind]) for kind in OrganisationKind})
    return choices


def country_select_choices(blank: str) -> dict[str, str]:
    return {"": blank, **dict(country_choices())}


def country_filter_choices(
    blank: str, in_use: Collection[str], selected: str | None
) -> dict[str, str]:
    """A filter's countries: those that occur (``in_use``), by name in the reader's language,
    and the one asked for if it is a country at all, so a link to an empty country still works."""
    wanted = set(in_use)
    if selected and is_country_code(selected):
        wanted.add(selected)
    return {"": blank} | {code: name for code, name in country_choices() if code in wanted}


def interface_language() -> str:
    """The language the page is read in, if texts can be written in it: what a person
    registering an organisation most likely writes its description in."""
    return language_or_default(str(get_locale() or ""))


class OrganisationForm(Form):
    # The version of the organisation the edit form was read at (core/versions.py).
    version = HiddenField()
    name = StringField(
        _l("Name"),
        validators=[SingleLine(), DataRequired(message=_l("Enter the name.")), length(max=200)],
    )
    kind = SelectField(
        _l("Kind of organisation"),
        validators=[DataRequired(message=_l("Choose a kind."))],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            DataRequired(message=_l("Describe the organisation in a few sentences.")),
            length(min=20, max=5000),
            MultiLine(),
        ],
        description=_l("What you do, for whom, and where."),
    )
    language = LanguageField(
        _l("Language"),
        default=interface_language,
        description=_l("The language the name and description are written in."),
    )
    website = URLField(
        _l("Website"),
        validators=[
            SingleLine(),
            Optional(),
            URL(require_tld=True, message=_l("Enter a full address, like https://example.org.")),
            length(max=500),
        ],
    )
    city = StringField(
        _l("City"),
        validators=[SingleLine(), DataRequired(message=_l("Enter the city.")), length(max=100)],
        description=_l(
            "In any language or script: Αθήνα, Athina or Athens are one city. We look it up "
            "in the chosen country."
        ),
        # The suggestions (static/js/app.js) fill the datalist the template puts beside it.
        render_kw={"list": "city-suggestions", "autocomplete": "off"},
    )
    region = StringField(
        _l("Region"),
        validators=[SingleLine(), DataRequired(message=_l("Enter the region.")), length(max=100)],
        description=_l("The city-region or administrative region, e.g. Liverpool City Region."),
    )
    country = SelectField(
        _l("Country"), validators=[DataRequired(message=_l("Choose the country."))]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices(blank=str(_l("Choose…")))
        self.country.choices = country_select_choices(str(_l("Choose…")))

    def validate_website(self, field: StringField) -> None:
        if field.data and not field.data.lower().startswith(("http://", "https://")):
            raise ValidationError(_l("The address must start with http:// or https://."))


class ContactPersonForm(Form):
    contact_name = StringField(
        _l("Contact person"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Enter the person's name.")),
            length(max=120),
        ],
    )
    contact_position = StringField(
        _l("Position"),
        validators=[SingleLine(), Optional(), length(max=200)],
        description=_l('e.g. "Co-Director, Heseltine Institute for Public Policy and Practice"'),
    )
    contact_email = EmailField(
        _l("Email"),
        validators=[
            SingleLine(),
            Optional(),
            Email(message=_l("Enter a valid email address."), check_deliverability=False),
            length(max=254),
        ],
        description=_l("Shown only to partners who agreed to work with you, and coordinators."),
    )
    contact_phone = StringField(_l("Phone"), validators=[SingleLine(), Optional(), length(max=40)])


class NewOrganisationForm(OrganisationForm):
    """Creating an organisation also names its first contact person (optional)."""

    version = None  # nothing saved yet to compare with

    contact_name = StringField(
        _l("Contact person"),
        validators=[SingleLine(), Optional(), length(max=120)],
        description=_l("You can add more contact people later."),
    )
    contact_position = ContactPersonForm.contact_position
    contact_email = ContactPersonForm.contact_email
    contact_phone = ContactPersonForm.contact_phone

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        details = self.contact_email.data or self.contact_phone.data or self.contact_position.data
        if details and not self.contact_name.data:
            # Optional() stops the name's own validators when it is empty, so check here.
            self.contact_name.errors = [
                *self.contact_name.errors,
                str(_l("Enter the name of the person these details belong to.")),
            ]
            return False
        return valid


class LogoForm(Form):
    logo = FileField(
        _l("Logo"),
        validators=[
            FileRequired(message=_l("Choose an image file.")),
            FileSize(
                max_size=MAX_UPLOAD_BYTES,
                message=_l("The logo is larger than %(size)s MB: send a smaller file.", size=2),
            ),
        ],
        description=_l(
            "A PNG, JPEG, GIF or WebP image of up to 2 MB. We keep a square copy of 256 pixels, "
            "without the file's metadata."
        ),
        render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"},
    )


class InviteMemberForm(Form):
    email = EmailField(
        _l("Email address of the person to invite"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Enter an email address.")),
            Email(message=_l("Enter a valid email address."), check_deliverability=False),
            length(max=254),
        ],
    )


class RejectOrganisationForm(Form):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Say why, so the organisation can put it right.")),
            length(max=2000),
            MultiLine(),
        ],
    )


class ConfirmForm(Form):
    """A button only: a POST with a CSRF token (verify, remove, accept)."""


class DirectoryFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Name"), validators=[SingleLine(), Optional(), length(max=200)])
    kind = FilterChoiceField(_l("Kind"))
    country = FilterChoiceField(_l("Country"))
    region = StringField(_l("Region"), validators=[SingleLine(), Optional(), length(max=100)])

    def __init__(self, *args: Any, countries: Collection[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices(blank=str(_l("All kinds")))
        self.country.choices = country_filter_choices(
            str(_l("All countries")), countries, self.country.data
        )
