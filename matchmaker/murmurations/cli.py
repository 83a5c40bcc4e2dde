"""``flask murmurations register``: tell a Murmurations index node where every profile is.

The index (``MATCHMAKER_MURMURATIONS_INDEX_URL``, e.g. https://test-index.murmurations.network/v2)
fetches each profile itself, validates it and lists it for aggregators; posting the same URL
again asks it to read the profile afresh. Unset, the command does nothing: publishing to a
public index is the operator's choice.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

import click
from flask import current_app
from flask.cli import AppGroup

from matchmaker.murmurations.profiles import profile_index

logger = logging.getLogger(__name__)

murmurations_cli = AppGroup("murmurations", help="Murmurations profiles of this site.")

TIMEOUT_SECONDS = 30


class IndexUnreachable(Exception):
    """The index did not answer at all: no point trying the other profiles."""


def post_profile(index_url: str, profile_url: str) -> tuple[bool, str]:
    """POST one profile URL to the index's ``/nodes``: (accepted, what the index said)."""
    request = urllib.request.Request(  # noqa: S310 - the operator's configured http(s) URL
        f"{index_url}/nodes",
        data=json.dumps({"profile_url": profile_url}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return True, f"{response.status}"
    except urllib.error.HTTPError as error:
        return False, f"{error.code} {error.read(500).decode(errors='replace')}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise IndexUnreachable(str(getattr(error, "reason", error))) from error


@murmurations_cli.command("register")
def register_command() -> None:
    """Post every published profile's URL to the configured index node."""
    index_url = current_app.config["MURMURATIONS_INDEX_URL"]
    if not index_url:
        click.echo(
            "MATCHMAKER_MURMURATIONS_INDEX_URL is not set: no index to register with, nothing sent."
        )
        return
    if not index_url.startswith(("https://", "http://")):
        raise click.ClickException("MATCHMAKER_MURMURATIONS_INDEX_URL must be an http(s) URL.")
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        entries = profile_index()
    failed = 0
    for entry in entries:
        try:
            accepted, answer = post_profile(index_url, entry["profile_url"])
        except IndexUnreachable as error:
            raise click.ClickException(
                f"The index at {index_url} did not answer: {error}"
            ) from error
        if not accepted:
            failed += 1
            click.echo(f"refused: {entry['profile_url']}: {answer}", err=True)
            logger.warning(
                "murmurations index refused a profile",
                extra={"profile_url": entry["profile_url"], "answer": answer},
            )
    click.echo(f"{len(entries) - failed} of {len(entries)} profiles registered with {index_url}.")
    if failed:
        raise click.ClickException(f"{failed} profile(s) were not registered.")
