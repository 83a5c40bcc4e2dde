"""The kept theme and word counts (matching/counts.py): one way to add to them, and
`flask --app wsgi match reindex --check`, which compares them with a plain count."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings.models import Theme
from matchmaker.matching.counts import add_counts
from matchmaker.matching.models import ThemeCount, WordCount
from tests.factories import make_listing


def _words() -> dict[str, int]:
    return dict(db.session.execute(sa.select(WordCount.stem, WordCount.listings)).all())


def test_counts_are_added_to_and_never_fall_below_zero(app: Flask) -> None:
    db.session.execute(sa.delete(WordCount))
    add_counts(db.session.connection(), WordCount.__table__, "stem", {"zebra": 2, "yak": -1})
    assert _words() == {"zebra": 2, "yak": 0}
    add_counts(db.session.connection(), WordCount.__table__, "stem", {"zebra": -1, "yak": 0})
    assert _words() == {"zebra": 1, "yak": 0}
    # A count already at zero stays there (the words' weights divide by count + 1).
    add_counts(db.session.connection(), WordCount.__table__, "stem", {"zebra": -3, "yak": -1})
    assert _words() == {"zebra": 0, "yak": 0}


def test_reindex_check_reports_counts_that_differ_and_changes_nothing(app: Flask) -> None:
    make_listing(title="Cooperative kitchens", description="Kitchens.", themes=("funding",))
    make_listing(title="Cooperative bakery", description="Bread.", themes=("funding",))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["match", "reindex", "--check"])
    assert result.exit_code == 0, result.output
    assert "equal a count of the listings" in result.output

    funding = db.session.scalar(sa.select(Theme.id).where(Theme.slug == "funding"))
    db.session.execute(
        sa.update(ThemeCount).where(ThemeCount.theme_id == funding).values(listings=5)
    )
    db.session.execute(sa.update(WordCount).where(WordCount.stem == "cooper").values(listings=7))
    db.session.execute(sa.delete(WordCount).where(WordCount.stem == "bakeri"))
    db.session.commit()
    result = runner.invoke(args=["match", "reindex", "--check"])
    assert result.exit_code == 1, result.output
    assert "theme_counts 'funding': 5 stored, 2 counted" in result.output
    assert "word_counts 'cooper': 7 stored, 2 counted" in result.output
    assert "word_counts 'bakeri': 0 stored, 1 counted" in result.output
    assert "3 kept counts differ" in result.output
    assert _words()["cooper"] == 7 and "bakeri" not in _words()  # nothing changed

    assert runner.invoke(args=["match", "reindex"]).exit_code == 0
    result = runner.invoke(args=["match", "reindex", "--check"])
    assert result.exit_code == 0, result.output
    assert _words()["cooper"] == 2 and _words()["bakeri"] == 1
