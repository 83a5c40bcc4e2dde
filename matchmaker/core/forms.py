"""Helpers shared by every feature's forms and views."""

from __future__ import annotations

from flask_wtf import FlaskForm

from matchmaker.core.errors import DomainError


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
