"""The proposal page: the explanation's story comes before its table of points."""

from __future__ import annotations

from flask import Flask

from tests.proposals.test_review_and_introductions import _as, world

__all__ = ["world"]  # the fixture, shared with the review tests


def test_the_proposal_page_tells_the_story_before_the_table(app: Flask, world: dict) -> None:
    page = _as(app, world["coordinator"]).get(f"/proposals/{world['proposal'].id}")
    text = page.get_data(as_text=True)
    story = text.split('<p class="story">')[1].split("</p>")[0]
    assert (
        "University of Liverpool can bring Social Enterprise Network what it is looking for"
        in story
    )
    assert "University of Liverpool brings “Research and evaluation”." in story
    assert text.index('<p class="story">') < text.index('<table class="table explanation">')
