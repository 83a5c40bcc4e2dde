"""The development mail backend (``MATCHMAKER_MAIL_BACKEND=console``): each message printed as a
person reads it, with its subject decoded, its text part and its links listed, instead of the raw
MIME (base64 subjects and bodies) that Flask-Mailman's own console backend prints."""

from __future__ import annotations

import re
from typing import Any

from flask_mailman.backends.console import EmailBackend as RawConsoleBackend

LINK = re.compile(r"https?://[^\s<>\"']+")


def readable(message: Any) -> str:
    """One message as text: who, what, the text part, then every link in it."""
    body = str(message.body or "")
    links = list(dict.fromkeys(LINK.findall(body)))
    lines = [
        f"From:    {message.from_email}",
        f"To:      {', '.join(message.to)}",
        f"Subject: {message.subject}",
        "",
        body.rstrip(),
    ]
    if links:
        lines += ["", "Links:", *(f"  {link}" for link in links)]
    return "\n".join(lines)


class EmailBackend(RawConsoleBackend):
    def write_message(self, message: Any) -> None:
        self.stream.write(readable(message) + "\n")
        self.stream.write("-" * 79 + "\n")
