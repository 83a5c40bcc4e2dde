"""A party's answer on the proposal page is quoted with the reader's quotation marks."""

from __future__ import annotations

import pytest
from flask import Flask

from matchmaker.extensions import db
from tests.proposals.test_review_and_introductions import _approve, _as, world

__all__ = ["world"]  # the fixture, shared with the review tests


@pytest.mark.parametrize(
    "language, quoted",
    [
        ("en", "“{}”"),
        ("el", "«{}»"),
        ("ar", "«\u2068{}\u2069»"),  # the message isolated in the right-to-left sentence
        ("fr", "«\u00a0{}\u00a0»"),
        ("pt", "“{}”"),
        ("es", "«{}»"),
    ],
)
def test_an_answer_is_quoted_as_the_readers_language_quotes(
    app: Flask, world: dict, language: str, quoted: str
) -> None:
    """English quotation marks stood around every answer, in Greek and Arabic too."""
    proposal, network = world["proposal"], world["network"]
    _approve(_as(app, world["coordinator"]), proposal)
    rosie = _as(app, world["network_owner"])
    rosie.post(
        f"/proposals/{proposal.id}/organisations/{network.id}/accept",
        data={f"r{network.id}-message": "Happy to talk <b>soon</b>."},
    )
    world["network_owner"].language = language
    db.session.commit()
    page = rosie.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    message = '<span dir="auto">Happy to talk &lt;b&gt;soon&lt;/b&gt;.</span>'
    assert quoted.format(message) in page
