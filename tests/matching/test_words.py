"""The words the matcher compares, stored with each listing and kept up to date."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings.models import Listing, Scope
from matchmaker.listings.services import update_listing
from matchmaker.matching.snapshot import full_snapshot
from matchmaker.matching.text import listing_words
from tests.factories import make_listing


def _stored(listing: Listing) -> str | None:
    return db.session.scalar(sa.select(Listing.match_words).where(Listing.id == listing.id))


def test_saving_a_listing_stores_its_words_and_editing_updates_them(app: Flask) -> None:
    listing = make_listing(
        title="Evaluating cooperative kitchens",
        description="Researchers to evaluate our kitchens and their training programmes.",
    )
    assert _stored(listing) == "cooperativ evaluat kitchen programm research train"
    update_listing(
        listing=listing,
        actor=None,
        title="Housing cooperatives",
        description="Advice on community land trusts for housing cooperatives.",
        themes=["social-inclusion"],
        scope=Scope.REGIONAL,
    )
    db.session.commit()
    assert _stored(listing) == listing_words(listing.title, listing.description)
    assert "kitchen" not in (_stored(listing) or "") and "hous" in (_stored(listing) or "")


def test_the_matcher_finds_the_words_of_a_listing_stored_without_them(app: Flask) -> None:
    listing = make_listing(
        title="Evaluating cooperative kitchens",
        description="Researchers to evaluate our kitchens and their training programmes.",
    )
    with_words = full_snapshot().listings[listing.id].words
    db.session.execute(sa.update(Listing).values(match_words=None))
    assert full_snapshot().listings[listing.id].words == with_words


def test_reindex_fills_in_and_corrects_the_stored_words(app: Flask) -> None:
    stale, missing, right = (
        make_listing(title=f"Listing about {topic}", description=f"All about {topic} here.")
        for topic in ("kitchens", "housing", "gardens")
    )
    db.session.execute(sa.update(Listing).where(Listing.id == stale.id).values(match_words="old"))
    db.session.execute(sa.update(Listing).where(Listing.id == missing.id).values(match_words=None))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["match", "reindex"])
    assert result.exit_code == 0, result.output
    assert "2 of 3 listings had their words recomputed." in result.output
    for listing in (stale, missing, right):
        assert _stored(listing) == listing_words(listing.title, listing.description)
