"""Helpers shared by every feature's forms and views."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as library_translations
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import FileField, SelectField
from wtforms.validators import AnyOf, Length, NumberRange, Optional, ValidationError

from matchmaker.core.errors import DomainError
from matchmaker.core.text import has_control_characters
from matchmaker.core.words import DEFAULT_LANGUAGE, LANGUAGES

_NUMBER = _l("Enter a number, like 12.5.")
_CHOICE = _l("Choose one of the options offered.")
_CHOICES = _l("Choose only among the options offered.")
_EDIT = _l("This field cannot be changed.")

# What WTForms and Flask-WTF say when a value cannot be read or checked (a coercion error, a
# default validator message), in the product's own words. Their English sentences are not ours,
# and their translations (when there are any) read differently from the rest of the product.
LIBRARY_MESSAGES: dict[str, Any] = {
    "Not a valid integer value.": _l("Enter a whole number, like 12."),
    "Not a valid decimal value.": _NUMBER,
    "Not a valid float value.": _NUMBER,
    "Not a valid date value.": _l("Enter a real date, like 2027-03-31."),
    "Not a valid datetime value.": _l("Enter a real date and time, like 2027-03-31 14:30."),
    "Not a valid time value.": _l("Enter a time, like 14:30."),
    "Not a valid week value.": _l("Enter a week, like 2027-W13."),
    "Not a valid choice.": _CHOICE,
    "Invalid Choice: could not coerce.": _CHOICE,
    "Invalid value, must be one of: %(values)s.": _CHOICE,
    "Invalid value, can't be any of: %(values)s.": _CHOICE,
    "'%(value)s' is not a valid choice for this field.": _CHOICES,
    "'%(value)s' are not valid choices for this field.": _CHOICES,
    "Invalid choice(s): one or more data inputs could not be coerced.": _CHOICES,
    "This field is required.": _l("Fill in this field."),
    "Invalid input.": _l("Check what you entered here."),
    "Invalid email address.": _l("Enter a valid email address."),
    "Invalid URL.": _l("Enter a full address, like https://example.org."),
    "Number must be between %(min)s and %(max)s.": _l("Give a number from %(min)s to %(max)s."),
    "Number must be at least %(min)s.": _l("Give a number of at least %(min)s."),
    "Number must be at most %(max)s.": _l("Give a number of at most %(max)s."),
    "Date must be between %(min)s and %(max)s.": _l("Give a date from %(min)s to %(max)s."),
    "Date must be at least %(min)s.": _l("Give a date on or after %(min)s."),
    "Date must be at most %(max)s.": _l("Give a date on or before %(max)s."),
    "Field must be equal to %(other_name)s.": _l("The two entries must be the same."),
    "File does not have an approved extension.": _l("This kind of file is not accepted here."),
    "This field cannot be edited.": _EDIT,
    "This field is disabled and cannot have a value.": _EDIT,
    "Field must be at least %(min)d character long.": _l("Write at least %(min)d characters."),
    "Field must be at least %(min)d characters long.": _l("Write at least %(min)d characters."),
    "Field cannot be longer than %(max)d character.": _l(
        "Keep this to %(max)d characters or fewer."
    ),
    "Field cannot be longer than %(max)d characters.": _l(
        "Keep this to %(max)d characters or fewer."
    ),
    "Field must be exactly %(max)d character long.": _l("Write exactly %(max)d characters."),
    "Field must be exactly %(max)d characters long.": _l("Write exactly %(max)d characters."),
    "Field must be between %(min)d and %(max)d characters long.": _l(
        "Write %(min)d to %(max)d characters here."
    ),
}


class ProductMessages:
    """The translations WTForms asks for its own messages: ours where we have a sentence, the
    library's (translated) otherwise."""

    def gettext(self, string: str) -> str:
        if string in LIBRARY_MESSAGES:
            return str(LIBRARY_MESSAGES[string])
        return str(library_translations.gettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


PRODUCT_MESSAGES = ProductMessages()


class Form(FlaskForm):
    """Every form of the product (tests/core/test_forms.py checks): a FlaskForm whose library
    messages are the product's own sentences, in the reader's language, and whose fields read
    only what an HTML form can send them."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> ProductMessages:
            return PRODUCT_MESSAGES

        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            """Text for every field, and uploaded files for the file fields alone.

            Flask-WTF hands every field the request's files under its name (before the text),
            and a JSON body's values whatever their type: a file sent in place of a name or an
            email address, or a number, list or object in JSON, reached validators and services
            that expect text, and a JSON body that is not an object failed here (a 500 on every
            form, the sign-in page's too). What is dropped counts as not sent.
            """
            try:
                data = super().wrap_formdata(form, formdata)
            except (TypeError, ValueError):
                if not request.is_json:
                    raise  # not the request's body: a mistake in the code
                return None  # a JSON body that is a list, a string or a number
            if data is None:
                return None
            files = {name for name, field in form._fields.items() if isinstance(field, FileField)}
            kept = MultiDict(
                (key, value)
                for key, value in data.items(multi=True)
                if isinstance(value, str) or (key in files and isinstance(value, FileStorage))
            )
            return kept or None


class SingleLine:
    """Refuses newlines, tabs and other control characters in a one-line field.

    Every one-line field uses it (tests/core/test_forms.py walks the forms to check): such
    values end up in mail headers, CSV cells and page titles, where a line break does harm.
    """

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and has_control_characters(str(field.data)):
            raise ValidationError(
                self.message or _l("Keep this on one line, without tabs or control characters.")
            )


class MultiLine:
    """Refuses tabs and other control characters in text of several lines (line breaks are
    fine): a right-to-left override or a NUL byte has no place in a message."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and has_control_characters(str(field.data), line_breaks=True):
            raise ValidationError(
                self.message or _l("Remove the tabs and control characters from this text.")
            )


def length(*, max: int, min: int = -1) -> Length:
    """A length check in the product's words (WTForms' default sentence, "Field must be
    between 20 and 5000 characters long.", is not ours). Mirrors a column's size where it has one.
    """
    if min > 0:
        return Length(min=min, max=max, message=_l("Write %(min)d to %(max)d characters here."))
    return Length(max=max, message=_l("Keep this to %(max)d characters or fewer."))


class WholeNumberRange(NumberRange):
    """NumberRange that compares a whole number as one: NumberRange first asks math.isnan,
    which turns it into a float, and a number of more than 308 digits overflows (a 500)."""

    def __call__(self, form: Any, field: Any) -> None:
        data = field.data
        if not isinstance(data, int) or isinstance(data, bool):
            super().__call__(form, field)
        elif (self.min is not None and data < self.min) or (
            self.max is not None and data > self.max
        ):
            raise ValidationError(self.message % {"min": self.min, "max": self.max})


def number_range(low: int, high: int) -> NumberRange:
    """A number check in the product's words."""
    return WholeNumberRange(min=low, max=high, message=_l("Give a number from %(min)s to %(max)s."))


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Attach a service's error to the field it names, or to the form as a whole."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def form_status(form: FlaskForm) -> int:
    """200 for a fresh form; 422 when a submitted one is shown again with its errors."""
    return 422 if form.is_submitted() else 200


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class FilterChoiceField(SelectField):
    """A choice of a filter form, where empty means "any".

    Surrounding blanks are dropped before the choice is checked: WTForms' ``Optional`` treats a
    blank as empty and skips the check, which let ``?kind=%20`` reach the query as a kind.
    """

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [Optional()])
        kwargs.setdefault("filters", [_strip])
        super().__init__(label, **kwargs)


class LanguageField(SelectField):
    """The language a text is written in (core/words.py's LANGUAGES, by name in the reader's
    language): it decides how the matcher reads the text's words."""

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        # AnyOf, not DataRequired: the select always has a value, and a `required` select
        # whose first option is a real choice is invalid HTML.
        kwargs.setdefault("validators", [AnyOf(list(LANGUAGES), message=_l("Choose a language."))])
        kwargs.setdefault("default", DEFAULT_LANGUAGE)
        choices = {code: str(name) for code, name in LANGUAGES.items()}
        # One message for a value that is no language: AnyOf's, not WTForms' own as well.
        super().__init__(label, choices=choices, validate_choice=False, **kwargs)
