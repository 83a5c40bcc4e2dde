from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from matchmaker.extensions import db
from matchmaker.notifications.services import send_digests
from matchmaker.proposals.services import send_outcome_reminders

notifications_cli = AppGroup("notifications", help="Mail that does not wait for a request.")


@notifications_cli.command("send-digest")
def send_digest_command() -> None:
    """Mail each daily-digest user what they have not been mailed yet (run it once a day)."""
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        count = send_digests()
    db.session.commit()
    click.echo(f"Sent {count} digest(s).")


@notifications_cli.command("send-reminders")
def send_reminders_command() -> None:
    """Remind the parties of agreements 30 days old with no outcome yet (run it daily)."""
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        count = send_outcome_reminders()
    db.session.commit()
    click.echo(f"Reminded the parties of {count} agreement(s).")
