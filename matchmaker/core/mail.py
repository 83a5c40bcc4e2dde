"""Sending templated mail through the configured backend (SMTP, or the console in development)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_mailman import EmailMultiAlternatives


def external_url(path: str) -> str:
    """An absolute link for mail, built from the configured base URL."""
    return current_app.config["MATCHMAKER_BASE_URL"] + path


def send_email(to: str | list[str], subject: str, template: str, **context: Any) -> None:
    """Render ``templates/email/<template>.txt`` and ``.html`` and send them as one message."""
    recipients = [to] if isinstance(to, str) else list(to)
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=recipients)
    message.attach_alternative(html, "text/html")
    message.send()
