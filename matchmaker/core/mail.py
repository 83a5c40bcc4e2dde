"""Templated mail: rendered now, written to the outbox, delivered after commit (core/outbox.py)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from matchmaker.core.outbox import queue_message


def external_url(path: str) -> str:
    """An absolute link for mail, built from the configured base URL."""
    return current_app.config["MATCHMAKER_BASE_URL"] + path


def send_email(to: str | list[str], subject: str, template: str, **context: Any) -> None:
    """Render ``templates/email/<template>.txt`` and ``.html`` as one message, to be sent once
    the current transaction commits (and never if it rolls back)."""
    recipients = [to] if isinstance(to, str) else list(to)
    queue_message(
        recipients=recipients,
        subject=str(subject),
        body_text=render_template(f"email/{template}.txt", **context),
        body_html=render_template(f"email/{template}.html", **context),
        template=template,
    )
