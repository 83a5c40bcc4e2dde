"""Helpers shared by every feature's forms and views."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from matchmaker.core.errors import DomainError
from matchmaker.core.text import has_control_characters


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


def number_range(low: int, high: int) -> NumberRange:
    """A number check in the product's words."""
    return NumberRange(min=low, max=high, message=_l("Give a number from %(min)s to %(max)s."))


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
