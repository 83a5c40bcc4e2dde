"""Mail the forgotten-password page asks for, as a job after its request commits: the page
answers in the same time whether or not an account has the address it was given."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from matchmaker.accounts.services import SEND_RESET_LINK, send_password_reset
from matchmaker.extensions import db


@shared_task(name=SEND_RESET_LINK, ignore_result=True)
def send_password_reset_task(email: str) -> bool:
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        sent = send_password_reset(email)
    db.session.commit()  # the mail goes out of the outbox after this commit
    return sent
