"""The kept theme counts (matching/theme_counts.py) equal a count of every listing's themes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, Scope, Theme
from matchmaker.matching.snapshot import theme_counts
from matchmaker.matching.theme_counts import (
    counted_themes,
    rebuild_theme_counts,
    scanned_themes,
)
from tests.factories import make_listing, make_organisation


def _theme(slug: str) -> Theme:
    theme = db.session.scalar(sa.select(Theme).where(Theme.slug == slug))
    assert theme is not None
    return theme


def test_kept_counts_follow_listings_created_edited_and_deleted(app: Flask) -> None:
    funding, policy = _theme("funding"), _theme("policy-strategy")
    first = make_listing(themes=("funding",))
    second = make_listing(themes=("funding", "policy-strategy"))
    assert counted_themes() == scanned_themes()
    assert counted_themes()[funding.id] == 2

    second.themes = [policy]  # funding taken off
    first.themes.append(policy)
    db.session.flush()
    assert counted_themes() == scanned_themes()

    db.session.delete(first)
    db.session.commit()
    assert counted_themes() == scanned_themes()
    assert theme_counts()[0] == {
        db.session.get(Theme, tid).slug: n  # type: ignore[union-attr]
        for tid, n in scanned_themes().items()
    }


def test_a_rolled_back_listing_is_not_counted(app: Flask) -> None:
    make_listing(themes=("funding",))
    before = counted_themes()
    db.session.add(
        Listing(
            organisation=make_organisation(),
            kind=ListingKind.NEED,
            title="Not kept",
            description="A listing rolled back before commit.",
            scope=Scope.LOCAL,
            themes=[_theme("funding")],
        )
    )
    db.session.flush()
    assert counted_themes()[_theme("funding").id] == before[_theme("funding").id] + 1
    db.session.rollback()
    assert counted_themes() == before == scanned_themes()


def test_rows_written_outside_the_orm_are_counted_by_a_rebuild(app: Flask) -> None:
    listing = make_listing(themes=("funding",), scope=Scope.LOCAL)
    db.session.execute(
        sa.text("DELETE FROM listing_themes WHERE listing_id = :id"), {"id": listing.id}
    )
    assert counted_themes() != scanned_themes()
    rebuild_theme_counts()
    assert counted_themes() == scanned_themes()
    assert db.session.get(Listing, listing.id) is not None
