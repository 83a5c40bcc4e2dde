"""Issue 14: in development, mail printed to the console reads as a message, not raw MIME."""

from __future__ import annotations

import io

from flask import Flask
from flask_mailman import EmailMultiAlternatives

from matchmaker.config import load_config
from matchmaker.core.console_mail import EmailBackend


def test_the_console_backend_prints_a_readable_message(app: Flask) -> None:
    stream = io.StringIO()
    message = EmailMultiAlternatives(
        subject="Επιβεβαιώστε τη διεύθυνσή σας",
        body="Γεια σας,\n\nOpen http://localhost/confirm/abc.def to confirm.\n",
        from_email="noreply@example.org",
        to=["nia@example.org"],
    )
    message.attach_alternative(
        "<p>Open <a href='http://localhost/confirm/abc.def'>it</a></p>", "text/html"
    )
    EmailBackend(stream=stream).send_messages([message])
    printed = stream.getvalue()
    assert "Subject: Επιβεβαιώστε τη διεύθυνσή σας" in printed
    assert "To:      nia@example.org" in printed
    assert "Γεια σας," in printed
    assert "Links:\n  http://localhost/confirm/abc.def" in printed
    assert "base64" not in printed and "=?utf-8?" not in printed and "<p>" not in printed


def test_development_uses_the_readable_console_backend(tmp_path: object) -> None:
    config = load_config({"MATCHMAKER_ENV": "development"}, tmp_path)  # type: ignore[arg-type]
    assert config["MAIL_BACKEND"] == "matchmaker.core.console_mail.EmailBackend"
